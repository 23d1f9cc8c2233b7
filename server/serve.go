package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/assemble"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/linger"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/web"
)

// Limits of the serving process; the HTTP server's own are api's
// (ReadHeaderTimeout and friends).
const (
	// shutdownTimeout bounds a graceful stop: requests in flight get this
	// long to finish, then their connections are cut and the process exits
	// 0, within the 10 s the README promises.
	shutdownTimeout = 9 * time.Second
	// maxConns bounds the open TCP connections: the hub's 10 000 WebSockets
	// plus room for plain requests. Past it, new connections wait in the
	// kernel's accept queue until one closes.
	maxConns = hub.DefaultMaxConns + 1000
)

// serverLimits are the limits and time-outs of the HTTP server; tests
// shorten them.
type serverLimits struct {
	readHeaderTimeout, readTimeout, writeTimeout, idleTimeout time.Duration
	shutdownTimeout                                           time.Duration
	maxHeaderBytes, maxConns                                  int
	linger                                                    linger.Options
}

func defaultLimits() serverLimits {
	return serverLimits{
		readHeaderTimeout: api.ReadHeaderTimeout, readTimeout: api.ReadTimeout, writeTimeout: api.WriteTimeout,
		idleTimeout: api.IdleTimeout, shutdownTimeout: shutdownTimeout,
		maxHeaderBytes: api.MaxHeaderBytes, maxConns: maxConns, linger: linger.Default,
	}
}

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "serve")
	ov := config.Bind(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("serve takes no arguments, got %q (run `tokenlab help serve`)", fs.Args())
	}
	cfg, err := loadConfig(e, ov)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return serve(ctx, cfg, log, e.stdout)
}

// loadConfig reads the configuration with flags over the environment.
func loadConfig(e env, ov config.Overrides) (config.Config, error) {
	cfg, err := config.Load(ov.Getenv(e.getenv))
	if err != nil {
		return cfg, fmt.Errorf("bad configuration (fix the variable in .env or the environment):\n  %s",
			strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return cfg, nil
}

// serve runs the HTTP server until ctx is cancelled, then shuts it down
// gracefully: the listener closes, WebSockets get 1001 going away, and
// requests in flight have shutdownTimeout to finish.
// The page's URL goes to stdout as one line, "serving URL", for scripts
// that start the server with PORT=0 and need the port it picked.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	return serveWith(ctx, cfg, log, defaultLimits(), stdout)
}

func serveWith(ctx context.Context, cfg config.Config, log *slog.Logger, lim serverLimits, stdout io.Writer) error {
	log.Info("tokenlab starting", cfg.LogAttrs()...)
	if cfg.Demo {
		log.Warn("DEMO ACCOUNT: no TWILIO_* credentials are set, so tokens are signed with a built-in demo key; Twilio will reject them. Set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET for real tokens.")
	}
	if missing := web.Missing(); len(missing) > 0 {
		log.Warn("the page's program is not built into this binary, so the page cannot start: "+web.RebuildHint, "missing", missing)
	}
	auth, err := assemble.Users(cfg, log)
	if err != nil {
		return err
	}
	app, err := assemble.New(cfg, log, auth, assemble.Options{})
	if err != nil {
		return err
	}
	if live, ok := auth.(*users.Live); ok {
		// Sessions the new file no longer grants end at once.
		live.OnChange(app.Hub.Recheck)
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go live.Poll(pctx, users.DefaultPollInterval)
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listening on %s: %w (set PORT to a free port, and TOKENLAB_HOST to an address of this machine)", cfg.ListenAddr(), err)
	}
	// Lingering wraps the limit, so that a lingering connection keeps its
	// slot until it is really closed.
	lingering := linger.NewListener(limitListener(ln, lim.maxConns), lim.linger)
	ln = lingering
	scheme := "http"
	if cfg.TLS {
		tc, err := assemble.TLS(cfg, log)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           app.Handler,
		ReadHeaderTimeout: lim.readHeaderTimeout,
		ReadTimeout:       lim.readTimeout,
		WriteTimeout:      lim.writeTimeout,
		IdleTimeout:       lim.idleTimeout,
		MaxHeaderBytes:    api.ServerMaxHeaderBytes(lim.maxHeaderBytes),
		ConnState:         lingering.ConnState,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	active := trackActive(srv)
	// Shutdown does not track hijacked WebSocket connections: the hub
	// closes them (1001 going away) as soon as shutdown starts.
	srv.RegisterOnShutdown(app.Hub.Shutdown)
	url := pageURL(scheme, cfg.Host, ln.Addr())
	log.Info("tokenlab listening", "addr", ln.Addr().String(), "url", url)
	fmt.Fprintf(stdout, "serving %s\n", url)
	if ip := net.ParseIP(cfg.Host); ip == nil || !ip.IsLoopback() {
		log.Warn("listening beyond loopback: other machines can reach this server", "host", cfg.Host)
		if len(cfg.AllowedHosts) == 0 {
			log.Info("only requests addressed to an IP address, localhost or TOKENLAB_HOST are answered: to reach this server by another name (a LAN name, a proxy's), list it in "+config.EnvAllowedHosts, "host", cfg.Host)
		}
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("tokenlab shutting down", "timeout", lim.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), lim.shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	// The SDKs' sockets (twilsock, Voice signaling) send their 1001 before
	// the process ends, so the SDKs reconnect without reporting an error.
	sdkconn.Drain(sctx, srv)
	if err := shutErr; errors.Is(err, context.DeadlineExceeded) {
		// A straggler (a body still trickling in, an answer not read)
		// does not get to hold the process: cut it, and stop cleanly.
		log.Warn("requests still running after the shutdown timeout: cutting their connections",
			"timeout", lim.shutdownTimeout, "clients", active())
		srv.Close()
	} else if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("tokenlab stopped")
	return nil
}

// trackActive follows srv's connections, after any ConnState hook it
// already has, and returns a function that lists the remote addresses of
// those with a request in progress.
func trackActive(srv *http.Server) func() []string {
	var mu sync.Mutex
	active := make(map[net.Conn]bool)
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if next != nil {
			next(c, st)
		}
		mu.Lock()
		defer mu.Unlock()
		if st == http.StateActive {
			active[c] = true
		} else {
			delete(active, c)
		}
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var addrs []string
		for c := range active {
			addrs = append(addrs, c.RemoteAddr().String())
		}
		slices.Sort(addrs)
		return addrs
	}
}

// pageURL is the address to open in a browser: localhost for a server on
// loopback or every interface, the configured host otherwise.
func pageURL(scheme, host string, addr net.Addr) string {
	port := addr.(*net.TCPAddr).Port
	if ip := net.ParseIP(host); ip == nil || !(ip.IsLoopback() || ip.IsUnspecified()) {
		return fmt.Sprintf("%s://%s/", scheme, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return fmt.Sprintf("%s://localhost:%d/", scheme, port)
}
