package e2e_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/shared/token"
)

// A 5-second token is renewed automatically, again and again, without ever
// being seen expired: the page's own recorder samples the status every
// 20 ms, and the test samples snapshot() every 100 ms on top. It runs
// against the plain server and once more over TLS (HTTPS and WSS, the
// certificate trusted by its key's pin).
func TestRenewsAutomatically(t *testing.T) {
	for _, server := range []struct{ name, url string }{{"http", baseURL}, {"tls", tlsURL}} {
		t.Run(server.name, func(t *testing.T) { renewsAutomatically(t, server.url) })
	}
}

func renewsAutomatically(t *testing.T, base string) {
	ctx := newTab(t, 40*time.Second)
	openAt(t, ctx, base)
	signIn(t, ctx, "alice", 5)

	first := snap(t, ctx)
	if first.Identity != "alice" || first.Renewals != 0 || first.Status == "signed out" || first.Status == "expired" {
		t.Fatalf("after sign-in snapshot() = %+v", first)
	}
	if left := first.SecondsLeft; left <= 0 || left > 5 {
		t.Errorf("secondsLeft = %v, want within (0, 5]", left)
	}
	if !slices.Equal(first.Grants, []string{"video"}) {
		t.Errorf("grants = %v, want the server's default [video]", first.Grants)
	}

	jtis := map[string]bool{first.JTI: true}
	var last snapshot
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s := snap(t, ctx)
		if s.Status == "expired" || s.Status == "signed out" {
			t.Fatalf("status %q at %+v", s.Status, s)
		}
		if s.Renewals < last.Renewals {
			t.Fatalf("renewals went down: %d then %d", last.Renewals, s.Renewals)
		}
		jtis[s.JTI] = true
		last = s
		if s.Renewals >= 2 && len(jtis) >= 3 && s.Connected {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last.Renewals < 2 || len(jtis) < 3 {
		t.Fatalf("within 15s: renewals = %d, distinct jtis = %d; want at least 2 renewals and 3 tokens", last.Renewals, len(jtis))
	}
	if !last.Connected {
		t.Errorf("connected = false, want the WebSocket up")
	}
	if off := last.ClockOffsetMS; off < -1000 || off > 1000 {
		t.Errorf("clockOffsetMs = %d on loopback, want within ±1 s", off)
	}
	r := recorded(t, ctx)
	if r.Statuses["expired"] > 0 || r.Samples < 100 {
		t.Errorf("page-side samples: %d, statuses %v; want many samples and never expired", r.Samples, r.Statuses)
	}
	evs := tokenEvents(r)
	if len(evs) < 3 {
		t.Fatalf("tokenlab:token events: %d, want sign-in plus 2 renewals", len(evs))
	}
	if got := evs[0].Detail["trigger"]; got != "sign-in" {
		t.Errorf("first tokenlab:token trigger = %v, want sign-in", got)
	}
	for _, e := range evs[1:] {
		if e.Detail["jti"] == "" || e.Detail["expiresAt"] == nil {
			t.Errorf("tokenlab:token detail lacks jti or expiresAt: %v", e.Detail)
		}
	}
	// The detail is the embed's too: the token, its exp in unix seconds,
	// the session's id.
	for _, e := range evs {
		raw, _ := e.Detail["token"].(string)
		tok, err := token.Decode(raw)
		if err != nil {
			t.Errorf("tokenlab:token detail's token: %v (detail %v)", err, e.Detail)
			continue
		}
		if exp, _ := e.Detail["expiresAt"].(float64); int64(exp) != tok.Claims.Exp || tok.Claims.JTI != e.Detail["jti"] {
			t.Errorf("tokenlab:token detail's expiresAt %v, jti %v, want its token's exp %d in unix seconds and jti %s", e.Detail["expiresAt"], e.Detail["jti"], tok.Claims.Exp, tok.Claims.JTI)
		}
		if e.Detail["sessionId"] != last.SessionID || last.SessionID == "" {
			t.Errorf("tokenlab:token detail's sessionId %v, want the snapshot's %q", e.Detail["sessionId"], last.SessionID)
		}
	}
	// The timeline tells the same story.
	timeline := text(t, ctx, `document.getElementById("timeline").innerText`)
	for _, want := range []string{"signed in as alice", "connected", "renewed"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	if off := text(t, ctx, `document.getElementById("offset").textContent`); !strings.Contains(off, "server clock") {
		t.Errorf("clock offset shown as %q", off)
	}
}

// The page's own timers are slowed the way Chrome slows a hidden tab's
// (intensive throttling: at most one wake-up a minute). Chrome's real
// throttling cannot be switched on at will in a headless test, and CPU
// throttling (Emulation.setCPUThrottlingRate) slows the socket's handling
// as much as the timers, proving nothing; so the test uses the page's hook
// window.tokenlab.test.throttleTimers(ms), which makes its renewal timer
// sleep at least ms each time. The fallback then cannot fire within the
// test, and every renewal must come from the server's "expiring" push over
// the WebSocket, which the test checks in each renewal's trigger.
func TestServerPushSavesRenewalWhenTimersThrottled(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	open(t, ctx)
	eval(t, ctx, `window.tokenlab.test.throttleTimers(60000)`)
	signIn(t, ctx, "bob", 5)
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 2`, 15*time.Second)

	r := recorded(t, ctx)
	if r.Statuses["expired"] > 0 {
		t.Errorf("status was expired %d times", r.Statuses["expired"])
	}
	evs := tokenEvents(r)
	for _, e := range evs[1:] {
		if e.Detail["trigger"] != "server warning" {
			t.Errorf("renewal triggers: %s; want every one from the server's warning", triggers(evs[1:]))
			break
		}
	}
}

// The converse: with the server's warnings ignored, the page's own timer
// (the shared/renew scheduler) renews alone, still before expiry, and over
// the socket it holds.
func TestPageTimerRenewsWithoutServerWarning(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	open(t, ctx)
	eval(t, ctx, `window.tokenlab.test.ignoreServerWarnings(true)`)
	signIn(t, ctx, "carol", 5)
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 2`, 15*time.Second)

	r := recorded(t, ctx)
	if r.Statuses["expired"] > 0 {
		t.Errorf("status was expired %d times", r.Statuses["expired"])
	}
	evs := tokenEvents(r)
	for _, e := range evs[1:] {
		if e.Detail["trigger"] != "page timer" {
			t.Errorf("renewal triggers: %s; want every one from the page timer", triggers(evs[1:]))
			break
		}
	}
	warned := 0
	for _, e := range r.Events {
		if e.Name == "tokenlab:notice" && e.Detail["type"] == "expiring" {
			warned++
		}
	}
	if warned == 0 {
		t.Errorf("no expiring notice reached the page: the test would not show the warning was ignored")
	}
}

// With both the server's warning and the page's timer out of the way, a
// token near expiry is renewed at once when the page becomes visible again,
// comes back online or gets focus.
func TestWakeRenewsNearExpiry(t *testing.T) {
	for _, tc := range []struct{ name, dispatch, trigger string }{
		{"visible", `document.dispatchEvent(new Event("visibilitychange"))`, "page visible again"},
		{"online", `window.dispatchEvent(new Event("online"))`, "back online"},
		{"focus", `window.dispatchEvent(new Event("focus"))`, "focus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newTab(t, 30*time.Second)
			open(t, ctx)
			eval(t, ctx, `window.tokenlab.test.ignoreServerWarnings(true); window.tokenlab.test.throttleTimers(60000)`)
			signIn(t, ctx, "dave", 6)
			// Not near expiry yet: waking changes nothing.
			eval(t, ctx, tc.dispatch)
			time.Sleep(300 * time.Millisecond)
			if s := snap(t, ctx); s.Renewals != 0 {
				t.Fatalf("renewed on %s while the token was fresh: %+v", tc.name, s)
			}
			// Inside the lead (a third of 6 s), nothing else will renew.
			waitFor(t, ctx, `window.tokenlab.snapshot().status === "expiring"`, 6*time.Second)
			eval(t, ctx, tc.dispatch)
			waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 1`, 3*time.Second)
			evs := tokenEvents(recorded(t, ctx))
			if got := evs[len(evs)-1].Detail["trigger"]; got != tc.trigger {
				t.Errorf("renewal trigger = %v, want %q", got, tc.trigger)
			}
		})
	}
}

// A sign-in with grants from the builder asks the server for exactly
// those, and the page shows each as a card. With TOKENLAB_SCREENSHOT set,
// the page with this live token is saved there as a PNG.
func TestGrantBuilderAndScreenshot(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	open(t, ctx)
	sid := func(prefix string) string { return prefix + "0123456789abcdef0123456789abcdef" }
	signIn(t, ctx, "erin_smith", 3600,
		chromedp.Click(chromedp.CSS(`input[name="grants.video"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.video.room"]`), "Standup"),
		chromedp.Click(chromedp.CSS(`input[name="grants.voice"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.voice.outgoing.application_sid"]`), sid("AP")),
		chromedp.Click(chromedp.CSS(`input[name="grants.voice.incoming.allow"]`)),
		chromedp.Click(chromedp.CSS(`input[name="grants.data_sync"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.data_sync.service_sid"]`), sid("IS")),
		chromedp.Click(chromedp.CSS(`input[name="grants.task_router"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.task_router.workspace_sid"]`), sid("WS")),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.task_router.worker_sid"]`), sid("WK")),
	)
	s := snap(t, ctx)
	if want := []string{"video", "data_sync", "voice", "task_router"}; !slices.Equal(s.Grants, want) {
		t.Fatalf("grants = %v, want %v", s.Grants, want)
	}
	cards := text(t, ctx, `[...document.querySelectorAll("#live-view .grant-card")].map(c => c.innerText).join("\n---\n")`)
	for _, want := range []string{`"Standup" only`, "TwiML application " + sid("AP"), "incoming calls", "Sync service " + sid("IS"), "as worker " + sid("WK")} {
		if !strings.Contains(cards, want) {
			t.Errorf("grant cards lack %q:\n%s", want, cards)
		}
	}
	payload := text(t, ctx, `document.querySelector("#live-view [data-part=payload]").textContent`)
	if !strings.Contains(payload, `"room": "Standup"`) || !strings.Contains(payload, `"identity": "erin_smith"`) {
		t.Errorf("payload view:\n%s", payload)
	}
	if utc := text(t, ctx, `document.querySelector("#live-view [data-part=exp-utc]").textContent`); !strings.HasSuffix(utc, " UTC") {
		t.Errorf("expiry in UTC shown as %q", utc)
	}

	// "Renew now" renews over the socket and keeps the grants. The server
	// answers a renewal within a second of the last mint with that same
	// token (it coalesces tabs renewing together), so wait that second out.
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)
	time.Sleep(1200 * time.Millisecond)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#renew-now`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 1`, 5*time.Second)
	if again := snap(t, ctx); again.JTI == s.JTI || !slices.Equal(again.Grants, s.Grants) {
		t.Errorf("after Renew now: %+v, before %+v", again, s)
	}

	path := os.Getenv("TOKENLAB_SCREENSHOT")
	if path == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s (%d bytes)", path, len(png))

	// The same page in the dark color scheme, beside it.
	_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dark, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("dark screenshot: %v", err)
	}
	darkPath := strings.TrimSuffix(path, ".png") + "-dark.png"
	if err := os.WriteFile(darkPath, dark, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("dark screenshot saved to %s", darkPath)
}

// A server restart drops the socket (1001 going away). The page reconnects
// by itself, with backoff, to the same session, and, finding its token near
// expiry with nothing else left to renew it, renews as it reconnects.
func TestReconnectAfterServerRestart(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	open(t, ctx)
	eval(t, ctx, `window.tokenlab.test.ignoreServerWarnings(true); window.tokenlab.test.throttleTimers(60000)`)
	signIn(t, ctx, "judy", 9)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)
	// Inside the 3-second lead of a 9-second token.
	waitFor(t, ctx, `window.tokenlab.snapshot().status === "expiring"`, 9*time.Second)

	restartServer(t)
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 1 && window.tokenlab.snapshot().connected`, 10*time.Second)

	r := recorded(t, ctx)
	var sawDisconnect, sawReconnect bool
	for _, e := range r.Events {
		if e.Name != "tokenlab:notice" {
			continue
		}
		switch {
		case e.Detail["type"] == "disconnected":
			sawDisconnect = true
		case e.Detail["type"] == "connected" && e.Detail["reconnect"] == true:
			sawReconnect = true
		}
	}
	if !sawDisconnect || !sawReconnect {
		t.Errorf("notices: disconnected %v, reconnected %v; events %v", sawDisconnect, sawReconnect, r.Events)
	}
	evs := tokenEvents(r)
	if got := evs[len(evs)-1].Detail["trigger"]; got != "reconnect" {
		t.Errorf("renewal triggers %s; want the last from the reconnect", triggers(evs))
	}
	if s := snap(t, ctx); s.Identity != "judy" || s.Status == "signed out" {
		t.Errorf("after the restart snapshot() = %+v", s)
	}
	if tl := text(t, ctx, `document.getElementById("timeline").innerText`); !strings.Contains(tl, "reconnected") || !strings.Contains(tl, "disconnected (") {
		t.Errorf("timeline:\n%s", tl)
	}
}
