package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/assemble"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/linger"
)

// runServerRole is the tokenlab server as server/serve.go builds it
// (configuration from the environment, the same users, handler, hub and HTTP
// timeouts), on 127.0.0.1, plus a second loopback listener with the
// goroutine count, a canary and pprof, which bin/tokenlab does not expose.
// It leaves out serve.go's cap on open connections (11,000, more than the
// bench opens). Logs go to stderr, as in bin/tokenlab; the bench sends them
// to a file. A coalescing window other than zero replaces the hub's; a
// jitter seed other than zero makes the warnings' jitter a sequence the
// bench can replay (seededJitter).
func runServerRole(coalesce time.Duration, jitterSeed uint64) error {
	if _, err := raiseFileLimit(); err != nil {
		return err
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	cfg.CoalesceWindow = coalesce
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	auth, err := assemble.Users(cfg, log)
	if err != nil {
		return err
	}
	var o assemble.Options
	if jitterSeed != 0 {
		o.Jitter = seededJitter(jitterSeed)
	}
	app, err := assemble.New(cfg, log, auth, o)
	if err != nil {
		return err
	}
	srv := newServer(app.Handler, log)
	srv.RegisterOnShutdown(app.Hub.Shutdown)
	var tc *tls.Config
	if cfg.TLS {
		if tc, err = assemble.TLS(cfg, log); err != nil {
			return err
		}
	}
	// Connections close as serve.go closes them: lingering after an error,
	// under TLS when it is on.
	return serveUntilSignal(srv, debugHandler(), func(ln net.Listener) net.Listener {
		l := linger.NewListener(ln, linger.Default)
		srv.ConnState = l.ConnState
		if tc != nil {
			return tls.NewListener(l, tc)
		}
		return l
	})
}

// seededJitter returns a jitter drawn uniformly from [0, max], as
// bin/tokenlab's is, but from a sequence fixed by seed: a client that
// connects one at a time, and replays the sequence, knows the jitter of
// each connection's warning, hence its due time (figure 12).
func seededJitter(seed uint64) func(max time.Duration) time.Duration {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func(max time.Duration) time.Duration {
		if max <= 0 {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(r.Int64N(int64(max) + 1))
	}
}

// runBareRole is figure 2's baseline: a bare net/http handler answering
// every request with the fixed body in file bodyPath.
func runBareRole(bodyPath string) error {
	if _, err := raiseFileLimit(); err != nil {
		return err
	}
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	return serveUntilSignal(newServer(h, slog.New(slog.NewTextHandler(os.Stderr, nil))), nil, nil)
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: api.ReadHeaderTimeout,
		ReadTimeout:       api.ReadTimeout,
		WriteTimeout:      api.WriteTimeout,
		IdleTimeout:       api.IdleTimeout,
		MaxHeaderBytes:    api.ServerMaxHeaderBytes(api.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// debugHandler serves GET /goroutines (runtime.NumGoroutine), GET /freeos,
// GET /canary (see canary) and pprof.
// It listens on loopback only, in the bench's own server process.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /goroutines", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, runtime.NumGoroutine())
	})
	// GET /freeos collects garbage and returns free memory to the OS, so
	// that two RSS readings differ by live memory, not by garbage.
	mux.HandleFunc("GET /freeos", func(w http.ResponseWriter, r *http.Request) {
		debug.FreeOSMemory()
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /canary", startCanary())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return mux
}

// serveUntilSignal serves srv (and debug, when not nil) on loopback ports,
// announces them on stdout, and shuts down on SIGTERM or SIGINT. wrap, when
// not nil, wraps srv's listener.
func serveUntilSignal(srv *http.Server, debug http.Handler, wrap func(net.Listener) net.Listener) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	debugAddr := ""
	if debug != nil {
		dln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		debugAddr = dln.Addr().String()
		go http.Serve(dln, debug)
	}
	fmt.Printf("ready %s %s\n", ln.Addr(), debugAddr)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}
