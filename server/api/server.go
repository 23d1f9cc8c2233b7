package api

import (
	"time"
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
