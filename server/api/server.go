package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/users"
)

// HTTP server limits of bin/tokenlab. Sign-ins are small and quick;
// WebSocket handlers set their own deadlines once they take over the
// connection (the http.Server's are cleared when a connection is hijacked).
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	// MaxHeaderBytes bounds a request's line and headers, the blank line
	// that ends them included; past it the answer is 431.
	MaxHeaderBytes = 16 << 10
)

// ServerMaxHeaderBytes is the http.Server.MaxHeaderBytes that enforces a
// limit of n bytes: net/http reads 4096 bytes beyond the field's value
// (initialReadLimitSize in net/http/server.go) before it answers 431.
func ServerMaxHeaderBytes(n int) int { return n - 4096 }

// Assemble builds the server's handler from the configuration: the minter,
// the sessions and the hub behind it. Whoever serves the handler calls
// Hub.Shutdown when it stops, so that sockets hear 1001 going away.
func Assemble(cfg config.Config, log *slog.Logger, auth users.Authenticator) (http.Handler, *hub.Hub, error) {
	minter, err := mint.New(cfg.Twilio, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	if cfg, err = ResolveSessionKey(cfg, log); err != nil {
		return nil, nil, err
	}
	sessions, err := NewSessions(cfg, time.Now)
	if err != nil {
		return nil, nil, err
	}
	h := NewHub(cfg, minter, sessions, auth, log, time.Now)
	handler := New(Deps{Config: cfg, Logger: log, Minter: minter, Users: auth, Sessions: sessions, Hub: h})
	return handler, h, nil
}
