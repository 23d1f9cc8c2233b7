package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	cpu, goVersion, kernel, load string
	cores                        int
	date                         time.Time
	took                         time.Duration
}

func describeMachine(goCmd string) machine {
	m := machine{cpu: "unknown", cores: runtime.NumCPU(), date: time.Now().UTC(), goVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command(goCmd, "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

func (m machine) oneLine() string {
	return fmt.Sprintf("%s, %d cores, %s, Linux %s, load average %s at start", m.cpu, m.cores, m.goVersion, m.kernel, m.load)
}

// verdict is "met", "missed" or "—" (nothing to meet).
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func ms(d time.Duration) string {
	switch {
	case d < 0:
		return "−" + ms(-d)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// us is a CPU time per request in microseconds, "—" when not measured.
func us(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// mb is a size in decimal megabytes, as the page's 1 MB target is.
func mb(n int64) string { return fmt.Sprintf("%.3f MB", float64(n)/1e6) }

func kib(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/1024) }

// table renders the one table of results, a row per figure.
func (b *bench) table(want []string) string {
	var t strings.Builder
	t.WriteString("| # | figure | measured | baseline, same run | target | verdict |\n|---|---|---|---|---|---|\n")
	row := func(fig, what, measured, baseline, target, v string) {
		fmt.Fprintf(&t, "| %s | %s | %s | %s | %s | %s |\n", fig, what, measured, baseline, target, v)
	}
	skipped := func(fig, what string) bool {
		if !slices.Contains(want, fig) {
			return true
		}
		if err := b.errs[fig]; err != nil {
			row(fig, what, "not measured: "+strings.ReplaceAll(err.Error(), "|", "/"), "", "", "**missed**")
			return true
		}
		return false
	}

	if !skipped("1", "minting, identity + one video grant (in process)") {
		s := b.fig1.stats
		ours, mc, tw := s["BenchmarkMint"], s["BenchmarkMintMapClaims"], s["BenchmarkMintTwilioGo"]
		xMC, xTW := mc.nsPerOp/ours.nsPerOp, tw.nsPerOp/ours.nsPerOp
		row("1", "minting, identity + one video grant (in process)",
			fmt.Sprintf("%.0f ns/op, %.0f allocs/op, %.0f B/op", ours.nsPerOp, ours.allocs, ours.bPerOp),
			fmt.Sprintf("golang-jwt MapClaims %.0f ns, %.0f allocs (**%.1f×**); twilio-go %.0f ns, %.0f allocs (**%.1f×**)", mc.nsPerOp, mc.allocs, xMC, tw.nsPerOp, tw.allocs, xTW),
			"≤ 3 µs, ≤ 12 allocs, ≥ 2.5× both",
			verdict(ours.nsPerOp <= 3000 && ours.allocs <= 12 && xMC >= 2.5 && xTW >= 2.5))
	}
	if !skipped("2", "HTTP renewal") {
		bare := medianRound(b.fig2.bare)
		for _, r := range []struct {
			what   string
			rounds []loadRound
		}{
			{fmt.Sprintf("HTTP renewal, every request mints (%d sessions in turn, each back after %s at the fastest, past the hub's %s coalescing window)",
				rotatePool, ms(b.fig2.reuseEvery), ms(renewalCoalesce)), b.fig2.minting},
			{"HTTP renewal, 64 sessions (the hub hands out the token it minted last)", b.fig2.coalesced},
		} {
			ours := medianRound(r.rounds)
			// Each round's ratio compares runs a few seconds apart; their
			// median is steadier than the ratio of the medians.
			var xs, ps []float64
			for i := range min(len(r.rounds), len(b.fig2.bare)) {
				xs = append(xs, r.rounds[i].rps/b.fig2.bare[i].rps)
				ps = append(ps, float64(r.rounds[i].p99)/float64(b.fig2.bare[i].p99))
			}
			x, p := median(xs), median(ps)
			row("2", r.what,
				fmt.Sprintf("%.0f req/s, p50 %s, p99 %s; server CPU %s per request", ours.rps, ms(ours.p50), ms(ours.p99), us(ours.serverCPU)),
				fmt.Sprintf("bare handler %.0f req/s, p50 %s, p99 %s, server CPU %s per request; median of the rounds' ratios: **%.2f×** req/s, p99 **%.2f×**", bare.rps, ms(bare.p50), ms(bare.p99), us(bare.serverCPU), x, p),
				"≥ 0.6× req/s, p99 ≤ 2×", verdict(x >= 0.6 && p <= 2 && ours.failed == 0 && b.fig2.reuseEvery > renewalCoalesce))
		}
		const flaskWhat = "HTTP token, every request mints, against the tutorial's Flask server (POST /token, Twilio's Python helper)"
		if b.fig2.flaskErr != nil || len(b.fig2.flask) == 0 {
			row("2", flaskWhat, fmt.Sprintf("not measured: %v", b.fig2.flaskErr), "", "≥ 15× req/s", "not measured")
		} else {
			ours, flask := medianRound(b.fig2.minting), medianRound(b.fig2.flask)
			x := ours.rps / flask.rps
			row("2", flaskWhat, fmt.Sprintf("tokenlab %.0f req/s (the minting run above)", ours.rps),
				fmt.Sprintf("Flask %.0f req/s, p50 %s, p99 %s, %d failed; **%.1f×** req/s", flask.rps, ms(flask.p50), ms(flask.p99), flask.failed, x),
				"≥ 15× req/s", verdict(x >= 15 && flask.failed == 0))
		}
	}
	if !skipped("3", "sign-in with a password") {
		l := b.fig3.load
		row("3", fmt.Sprintf("sign-in with a password (bcrypt cost %d)", b.fig3.cost),
			fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", l.rps, ms(l.p50), ms(l.p99)),
			fmt.Sprintf("one bcrypt check: %s", ms(b.fig3.oneCheck)), "report", "—")
	}
	f := b.fig45
	if !skipped("4", "10,000 idle WebSockets") {
		n := int64(max(f.connected, 1))
		per := (f.rssAfter - f.rssBefore) / n
		gor := float64(f.goroutinesAfter-f.goroutinesBefore) / float64(n)
		row("4", fmt.Sprintf("%d idle WebSockets, one session each", f.connected),
			fmt.Sprintf("**%.1f KiB** RSS and %.2f goroutines per connection", float64(per)/1024, gor),
			fmt.Sprintf("RSS before connecting %s, after %s", kib(f.rssBefore), kib(f.rssAfter)),
			"≤ 16 KiB per connection", verdict(per <= 16<<10 && f.connected == wsSessions))
	}
	if !skipped("5", "expiry warnings") {
		var p99s, canaryP99s []float64
		var worst time.Duration
		for _, w := range f.waves {
			p99s = append(p99s, float64(w.p99))
			canaryP99s = append(canaryP99s, float64(w.canaryP99))
			worst = max(worst, w.max)
		}
		var perWave []string
		for _, w := range f.waves {
			perWave = append(perWave, ms(w.p99))
		}
		p99 := time.Duration(median(p99s))
		want := f.connected * waves
		row("5", fmt.Sprintf("expiry warnings: %d tokens expiring within %v, %d waves", f.connected, f.expSpread, len(f.waves)),
			fmt.Sprintf("lateness p99 **%s** (median of the waves' p99: %s), max %s; missed %d; renewals answered %d of %d",
				ms(p99), strings.Join(perWave, ", "), ms(worst), f.missed, f.renewed, want),
			fmt.Sprintf("a perfect timer in the server process, same due times (10 ms sleeper): p99 %s", ms(time.Duration(median(canaryP99s)))),
			"p99 ≤ 100 ms, none missed, every renewal answered",
			verdict(p99 <= 100*time.Millisecond && f.missed == 0 && f.renewed == want && f.connected == wsSessions && len(f.waves) == waves))
	}
	if !skipped("6", "the page") {
		g := b.fig6
		brotli := "not measured (no brotli command)"
		if g.brotli > 0 {
			brotli = mb(g.brotli)
		}
		row("6", "page: wasm size",
			fmt.Sprintf("raw %s; served to Chromium **%s** (%s); served to a gzip-only client %s; gzip -9 %s; brotli -q 11 %s",
				mb(g.raw), mb(g.served), g.encoding, mb(g.servedGzip), mb(g.gzip9), brotli),
			"—", "≤ 1 MB as served", verdict(g.served <= 1_000_000 && g.served > 0))
		tok, frame := time.Duration(median(g.tokenAt)), time.Duration(median(g.frameAt))
		row("6", fmt.Sprintf("page: navigation start to first rendered token, headless Chromium, median of %d cold loads", len(g.frameAt)),
			fmt.Sprintf("**%s** (token in the DOM at %s)", ms(frame), ms(tok)), "—", "≤ 500 ms", verdict(frame <= 500*time.Millisecond && len(g.frameAt) == pageLoads))
	}
	if !skipped("7", "the revocation list") {
		b.fig7Rows(row)
	}
	if !skipped("8", "HTTP renewal during a sign-in flood") {
		idle, flood := medianRound(b.fig8.idle), medianRound(b.fig8.flood)
		// Each round's ratio compares runs seconds apart, as in figure 2.
		var ps []float64
		for i := range min(len(b.fig8.idle), len(b.fig8.flood)) {
			ps = append(ps, float64(b.fig8.flood[i].p99)/float64(b.fig8.idle[i].p99))
		}
		p := median(ps)
		ok, refused := 0, 0
		for i := range b.fig8.checked {
			ok += b.fig8.checked[i]
			refused += b.fig8.refused[i]
		}
		row("8", fmt.Sprintf("HTTP renewal (%d sessions, each every %v) during a flood of %d parallel sign-ins, each needing a bcrypt check (cost %d)", floodRenewers, floodRenewEvery, floodConns, b.fig8.cost),
			fmt.Sprintf("p50 %s, p99 %s, %.0f req/s; the flood got %d password checks, %d refused (503 busy)", ms(flood.p50), ms(flood.p99), flood.rps, ok, refused),
			fmt.Sprintf("idle: p50 %s, p99 %s, %.0f req/s; median of the rounds' ratios: p99 **%.2f×**", ms(idle.p50), ms(idle.p99), idle.rps, p),
			"p99 ≤ 2×", verdict(p <= 2 && p > 0 && flood.failed == 0 && idle.failed == 0))
	}
	if !skipped("9", "TLS") {
		f := b.fig9
		plain, secured := medianRound(f.plain), medianRound(f.secured)
		var rs []float64
		for i := range min(len(f.plain), len(f.secured)) {
			rs = append(rs, f.secured[i].rps/f.plain[i].rps)
		}
		row("9", "TLS: full handshakes (ECDSA P-256, no resumption), "+fmt.Sprint(tlsHandshakeWorkers)+" clients", fmt.Sprintf("**%.0f handshakes/s**", f.handshakes), "—", "report", "—")
		row("9", fmt.Sprintf("TLS: HTTP renewal over HTTPS, %d sessions on keep-alive connections (median of %d rounds)", tlsRenewWorkers, len(f.secured)),
			fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", secured.rps, ms(secured.p50), ms(secured.p99)),
			fmt.Sprintf("plain HTTP, same sessions' shape: %.0f req/s, p50 %s, p99 %s; median of the rounds' ratios **%.2f×**", plain.rps, ms(plain.p50), ms(plain.p99), median(rs)),
			"report", "—")
		row("9", fmt.Sprintf("TLS: %d idle Voice signaling connections (wss://…/signal, one identity each)", tlsSignalConns),
			fmt.Sprintf("**%.1f KiB** RSS per connection; %d connected in %s", float64(f.signalRSS)/1024, f.signalConns, ms(f.signalTook)), "—", "report", "—")
	}
	if !skipped("10", "the embed") {
		g := b.fig10
		embed, own := time.Duration(median(g.embedTokenAt)), time.Duration(median(g.ownTokenAt))
		ratio := float64(embed) / float64(max(own, 1))
		row("10", fmt.Sprintf("embed: navigation start to the first token in a host page on another origin (one script tag, `tokenlab.embed`), headless Chromium, median of %d cold loads", len(g.embedTokenAt)),
			fmt.Sprintf("**%s** (embed.js in at %s, the program at %s)", ms(embed), ms(time.Duration(median(g.embedScriptAt))), ms(time.Duration(median(g.embedWasmAt)))),
			fmt.Sprintf("tokenlab's own page, same cold loads alternating: first token at %s; **%.2f×**", ms(own), ratio),
			"≤ 1.2× the own page", verdict(ratio <= 1.2 && len(g.embedTokenAt) == embedLoads))
	}
	if !skipped("11", "idle twilsock connections") {
		g := b.figTS
		per, wsPer := g.perConn()
		row("11", fmt.Sprintf("%d idle twilsock connections (GET /v3/wsconnect, init with a token of its own identity, then idle)", g.connected),
			fmt.Sprintf("**%.1f KiB** RSS and %.2f goroutines per connection; RSS before %s, after %s", float64(per)/1024,
				float64(g.goroutinesAfter-g.goroutinesBefore)/float64(max(g.connected, 1)), kib(g.rssBefore), kib(g.rssAfter)),
			fmt.Sprintf("%d idle /ws connections, one session each (figure 4's measure, its own server): %.1f KiB and %.2f goroutines per connection",
				g.wsConnected, float64(wsPer)/1024, float64(g.wsGoroutines)/float64(max(g.wsConnected, 1))),
			"≤ 16 KiB per connection", verdict(per <= 16<<10 && g.connected == tsConns))
	}
	if !skipped("12", "tokenAboutToExpire") {
		g := b.figTS
		w := g.wave
		ws := "figure 5 not measured in this run"
		if len(b.fig45.waves) > 0 {
			var p99s []float64
			for _, x := range b.fig45.waves {
				p99s = append(p99s, float64(x.p99))
			}
			ws = "/ws's `expiring` (figure 5): p99 " + ms(time.Duration(median(p99s)))
		}
		row("12", fmt.Sprintf("tokenAboutToExpire (twilsock `client_update`): %d tokens expiring within %v, each warning answered with an `update`", g.connected, g.expSpread),
			fmt.Sprintf("lateness p50 %s, p99 **%s**, max %s; missed %d; early %d; updates accepted %d of %d", ms(w.p50), ms(w.p99), ms(w.max), g.missed, g.early, g.updated, w.n),
			fmt.Sprintf("a perfect timer in the server process, same due times: p99 %s; %s", ms(w.canaryP99), ws),
			"p99 ≤ 100 ms, none missed",
			verdict(w.p99 <= 100*time.Millisecond && g.missed == 0 && g.early == 0 && w.n == tsConns && g.updated == tsConns))
	}
	return t.String()
}

// The generated part of the report sits between these markers; the rest
// of the file (the analysis) is written by hand and kept.
const (
	beginMark = "<!-- make bench: begin generated results -->"
	endMark   = "<!-- make bench: end generated results -->"
)

func writeReport(path string, m machine, b *bench, table string) error {
	var g strings.Builder
	fmt.Fprintf(&g, "%s\n", beginMark)
	fmt.Fprintf(&g, "Measured by `make bench` on %s in %v.\n\n", m.date.Format("2006-01-02 15:04 MST"), m.took.Round(time.Second))
	fmt.Fprintf(&g, "Machine: %s, %d cores; %s; Linux %s; load average at start %s.\n\n", m.cpu, m.cores, m.goVersion, m.kernel, m.load)
	g.WriteString(table)
	g.WriteString("\n")
	b.details(&g)
	fmt.Fprintf(&g, "%s\n", endMark)

	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var doc []byte
	i, j := bytes.Index(old, []byte(beginMark)), bytes.Index(old, []byte(endMark))
	if i >= 0 && j > i {
		doc = append(append(append([]byte{}, old[:i]...), g.String()...), old[j+len(endMark)+1:]...)
	} else {
		doc = []byte("# Benchmarks\n\n" + g.String())
	}
	return os.WriteFile(path, doc, 0o644)
}

// details writes each figure's raw numbers: the rounds behind the
// medians, and the go test output.
func (b *bench) details(w *strings.Builder) {
	w.WriteString("<details><summary>Raw numbers</summary>\n\n")
	if b.fig1.raw.Len() > 0 {
		fmt.Fprintf(w, "Figure 1, `go test -run '^$' -bench '^BenchmarkMint' -benchmem -count 5 ./server/mint/`:\n\n```\n%s```\n\n", b.fig1.raw.String())
	}
	if len(b.fig2.bare) > 0 {
		fmt.Fprintf(w, "Figure 2, %d connections, %d rounds of %v each, alternating; renewal answer %d bytes; the server's coalescing window %v; in the minting run's fastest round a session came back every %v:\n\n",
			httpConns, httpRounds, roundLength, b.fig2.bodyBytes, renewalCoalesce, b.fig2.reuseEvery.Round(time.Millisecond))
		w.WriteString("CPU per request is the CPU time the server process (and the bench, which runs the load generator) used during the round, divided by the requests answered.\n\n")
		w.WriteString("| run | round | req/s | p50 | p99 | failed | server CPU per request | load generator CPU per request |\n|---|---|---|---|---|---|---|---|\n")
		for _, r := range []struct {
			name   string
			rounds []loadRound
		}{{"bare handler", b.fig2.bare}, {"tokenlab, every request mints", b.fig2.minting}, {"tokenlab, 64 sessions", b.fig2.coalesced}} {
			for i, x := range r.rounds {
				fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %d | %s | %s |\n", r.name, i+1, x.rps, ms(x.p50), ms(x.p99), x.failed, us(x.serverCPU), us(x.loadCPU))
			}
		}
		w.WriteString("\n")
	}
	if b.fig3.cost > 0 {
		fmt.Fprintf(w, "Figure 3: %d connections for 5 s; %d sign-ins failed.\n\n", signInConns, b.fig3.load.failed)
	}
	if f := b.fig45; f.connected > 0 {
		fmt.Fprintf(w, "Figures 4 and 5: %d sign-ins took %v, %d connections %v; goroutines %d → %d; RSS read after a forced GC and FreeOSMemory both times; the first warning was due %v after the last connection settled; warn lead %v, first exp spread %v.\n\n",
			wsSessions, f.signInTook.Round(time.Millisecond), f.connected, f.connectTook.Round(time.Millisecond), f.goroutinesBefore, f.goroutinesAfter, f.setupMargin.Round(time.Millisecond), wsWarnLead, f.expSpread)
		w.WriteString("Server-stamped lateness uses the message's server_time_ms, whole milliseconds, hence −1 ms at times.\n\n")
		w.WriteString("| wave | warnings | due over | lateness p50 | p99 | max | server-stamped p50 | p99 | perfect timer p50 | p99 | max |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for k, x := range f.waves {
			fmt.Fprintf(w, "| %d | %d | %v | %s | %s | %s | %s | %s | %s | %s | %s |\n", k+1, x.n, x.last.Sub(x.first).Round(time.Millisecond),
				ms(x.p50), ms(x.p99), ms(x.max), ms(x.serverP50), ms(x.serverP99), ms(x.canaryP50), ms(x.canaryP99), ms(x.canaryMax))
		}
		if f.renewError != "" {
			fmt.Fprintf(w, " A renewal failed: %s.", f.renewError)
		}
		w.WriteString("\n\n")
	}
	if g := b.fig6; len(g.frameAt) > 0 {
		fmt.Fprintf(w, "Figure 6: %s, each load in a new Chromium with an empty profile; milliseconds after navigation start:\n\n", g.wasmFile)
		w.WriteString("| load | wasm asked | wasm downloaded | program ready | token asked | token arrived | token in the DOM | painted |\n|---|---|---|---|---|---|---|---|\n")
		cols := [][]float64{g.wasmStartAt, g.wasmAt, g.readyAt, g.refreshStartAt, g.refreshEndAt, g.tokenAt, g.frameAt}
		for i := range g.frameAt {
			fmt.Fprintf(w, "| %d |", i+1)
			for _, c := range cols {
				fmt.Fprintf(w, " %.0f |", c[i]/1e6)
			}
			w.WriteString("\n")
		}
		w.WriteString("| median |")
		for _, c := range cols {
			fmt.Fprintf(w, " %.0f |", median(c)/1e6)
		}
		w.WriteString("\n\n")
	}
	if g := b.fig10; len(g.embedTokenAt) > 0 {
		w.WriteString("Figure 10: each load in a new Chromium with an empty profile, the own page (its session cookie set, as in figure 6) and the host page alternating; the host page signs in through the embed; milliseconds after navigation start:\n\n")
		w.WriteString("| load | own page: first token | embed: embed.js arrived | embed: program arrived | embed: sign-in answered | embed: first token |\n|---|---|---|---|---|---|\n")
		cols := [][]float64{g.ownTokenAt, g.embedScriptAt, g.embedWasmAt, g.embedSignInAt, g.embedTokenAt}
		for i := range g.embedTokenAt {
			fmt.Fprintf(w, "| %d |", i+1)
			for _, c := range cols {
				fmt.Fprintf(w, " %.0f |", c[i]/1e6)
			}
			w.WriteString("\n")
		}
		w.WriteString("| median |")
		for _, c := range cols {
			fmt.Fprintf(w, " %.0f |", median(c)/1e6)
		}
		w.WriteString("\n\n")
	}
	if len(b.fig8.idle) > 0 {
		fmt.Fprintf(w, "Figure 8: %d connections renewing every %v, %d rounds of %v idle and %v flooded (the flood of %d connections starts %v before), alternating:\n\n",
			floodRenewers, floodRenewEvery, floodRounds, floodRound, floodRound, floodConns, floodBuildUp)
		w.WriteString("| round | idle p50 | idle p99 | flooded p50 | flooded p99 | flood's checks | flood refused |\n|---|---|---|---|---|---|---|\n")
		for i := range min(len(b.fig8.idle), len(b.fig8.flood)) {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %d | %d |\n", i+1, ms(b.fig8.idle[i].p50), ms(b.fig8.idle[i].p99),
				ms(b.fig8.flood[i].p50), ms(b.fig8.flood[i].p99), b.fig8.checked[i], b.fig8.refused[i])
		}
		w.WriteString("\n")
	}
	if g := b.figTS; g.connected > 0 {
		fmt.Fprintf(w, "Figures 11 and 12: %d twilsock connections opened one after the other in %v; goroutines %d → %d; RSS read after a forced GC and FreeOSMemory both times; the first warning was due %v after the connections settled; warn lead %v, and the jitter drawn from a seeded sequence that the bench replays (each warning is due at exp − lead − its jitter); the tokens' exp spread %v. Baseline: %d /ws connections on a server of their own, RSS %s → %s. The warnings were due over %v; the perfect timer's p50 %s, max %s.",
			g.connected, g.connectTook.Round(time.Millisecond), g.goroutinesBefore, g.goroutinesAfter, g.setupMargin.Round(time.Millisecond), tsWarnLead, g.expSpread,
			g.wsConnected, kib(g.wsRSSBefore), kib(g.wsRSSAfter), g.wave.last.Sub(g.wave.first).Round(time.Millisecond), ms(g.wave.canaryP50), ms(g.wave.canaryMax))
		if g.updateError != "" {
			fmt.Fprintf(w, " A client saw: %s.", g.updateError)
		}
		w.WriteString("\n\n")
	}
	w.WriteString("</details>\n")
}
