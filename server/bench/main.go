// Command bench measures tokenlab's performance figures, each against a
// baseline measured in the same run (the machine is shared and noisy, so
// ratios and medians are the verdict, never one absolute time), prints one
// table and writes it, with a description of the machine, into
// docs/benchmarks.md. `make bench` runs it; `make test` never does.
//
// Everything runs on loopback, bounded in time and count. The servers
// under test are child processes of this binary (-role server is the
// tokenlab server as server/serve.go builds it, -role bare the baseline
// handler); they die with it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	role := flag.String("role", "", "internal: run as the bench's child server (server, bare)")
	body := flag.String("body", "", "internal: the bare server's answer, a file")
	coalesce := flag.Duration("coalesce", 0, "internal: the server's coalescing window (0: the default)")
	out := flag.String("out", "docs/benchmarks.md", "the Markdown file to write the results into")
	wasmPath := flag.String("wasm", "bin/tokenlab.wasm", "the page's program as make web-assets builds it, uncompressed")
	goCmd := flag.String("go", "go", "the go command (figure 1 runs go test -bench)")
	figures := flag.String("figures", "1,2,3,4,5,6,7,8,9,10,11,12", "the figures to measure, comma-separated (4 and 5 run together, as do 11 and 12)")
	profileDir := flag.String("profile", "", "a directory: save CPU profiles of the server under load there (figures 2, 5, 8 and 12)")
	addr := flag.String("addr", "", "internal: the server a flood is sent to")
	floodFor := flag.Duration("for", 0, "internal: how long a flood lasts")
	jitterSeed := flag.Uint64("jitter-seed", 0, "internal: draw the server's warning jitter from this seed (0: at random, as bin/tokenlab)")
	flag.Parse()

	var err error
	switch *role {
	case "server":
		err = runServerRole(*coalesce, *jitterSeed)
	case "bare":
		err = runBareRole(*body)
	case "flood":
		err = runFloodRole(*addr, *floodFor)
	case "":
		err = runBench(*out, *wasmPath, *goCmd, *figures, *profileDir)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench holds one run's settings and results.
type bench struct {
	dir      string // scratch directory: child logs, users file
	wasmPath string
	goCmd    string
	// profileDir, when set, receives CPU profiles of the server under load.
	profileDir string

	fig1  fig1
	fig2  fig2
	fig3  fig3
	fig45 fig45
	fig6  fig6
	fig9  fig9
	fig7  fig7
	fig8  fig8
	fig10 fig10
	figTS figTwilsock      // figures 11 and 12
	errs  map[string]error // figure → why it was not measured
	want  []string         // the figures asked for
}

type fig1 struct {
	stats map[string]benchStats
	raw   strings.Builder
}

type fig2 struct {
	bare, minting, coalesced []loadRound
	flask                    []loadRound // the tutorial's Flask server
	flaskErr                 error       // why it was not measured
	bodyBytes                int
	reuseEvery               time.Duration
}

type fig3 struct {
	cost     int
	oneCheck time.Duration
	load     loadRound
}

type fig45 struct {
	signInTook, connectTook, setupMargin time.Duration
	expSpread                            time.Duration
	connected                            int
	rssBefore, rssAfter                  int64
	goroutinesBefore, goroutinesAfter    int
	waves                                []wave
	warnings, missed, renewed            int
	renewError                           string
}

type fig6 struct {
	wasmFile           string
	raw, gzip9, brotli int64
	servedGzip         int64 // GET with Accept-Encoding: gzip
	served             int64 // what Chromium received, in encoding
	encoding           string
	// Milestones of each load, nanoseconds after navigation start.
	wasmStartAt, wasmAt, readyAt, refreshStartAt, refreshEndAt, tokenAt, frameAt []float64
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func runBench(out, wasmPath, goCmd, figures, profileDir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bounded whatever happens: the whole run takes a few minutes.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if _, err := raiseFileLimit(); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	dir, err := os.MkdirTemp("", "tokenlab-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, wasmPath: wasmPath, goCmd: goCmd, profileDir: profileDir, errs: map[string]error{}}
	m := describeMachine(goCmd)
	b.logf("bench: %s", m.oneLine())

	want := strings.Split(figures, ",")
	b.want = want
	steps := []struct {
		figs []string
		run  func(context.Context) error
	}{
		{[]string{"1"}, b.benchMint},
		{[]string{"2"}, b.benchRenewal},
		{[]string{"3"}, b.benchSignIn},
		{[]string{"4", "5"}, b.benchSockets},
		{[]string{"6"}, b.benchPage},
		{[]string{"7"}, b.benchRevocations},
		{[]string{"8"}, b.benchFlood},
		{[]string{"9"}, b.benchTLS},
		{[]string{"10"}, b.benchEmbed},
		{[]string{"11", "12"}, b.benchTwilsock},
	}
	start := time.Now()
	for _, s := range steps {
		if !slices.ContainsFunc(s.figs, func(f string) bool { return slices.Contains(want, f) }) {
			continue
		}
		if err := s.run(ctx); err != nil {
			b.logf("figure %s not measured: %v", strings.Join(s.figs, "/"), err)
			for _, f := range s.figs {
				b.errs[f] = err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	m.took = time.Since(start)
	table := b.table(want)
	fmt.Println()
	fmt.Print(table)
	return writeReport(out, m, b, table)
}

func (b *bench) benchMint(ctx context.Context) error {
	b.logf("figure 1: go test -bench BenchmarkMint -count 5 ./server/mint/")
	stats, err := runGoBench(ctx, b.goCmd, "./server/mint/", "^BenchmarkMint", 5, &b.fig1.raw)
	if err != nil {
		return err
	}
	for _, name := range []string{"BenchmarkMint", "BenchmarkMintMapClaims", "BenchmarkMintTwilioGo"} {
		if stats[name].runs == 0 {
			return fmt.Errorf("%s did not run", name)
		}
	}
	b.fig1.stats = stats
	return nil
}
