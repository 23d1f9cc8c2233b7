package api

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// logRequests logs one line per request. It never logs bodies, headers or
// query strings: they may carry passwords and tokens.
//
// A request answered below 400 is routine (a page asking for its renewal
// every few minutes) and is logged at debug; failures are logged at info.
// Formatting and writing a line per renewal was the largest cost the
// server added to one (docs/benchmarks.md), so at the default level a
// successful request costs the log nothing but an Enabled check.
//
// Refusals under load (429 too many, 503 busy) come in floods, one per
// request of the flood: at most one line a second is written for them,
// saying how many were left out, so that a flood of sign-ins does not make
// the server spend its time writing the log while renewals wait.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	var shed shedLog
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			level := slog.LevelDebug
			if rec.status >= http.StatusBadRequest {
				level = slog.LevelInfo
			}
			if !log.Enabled(r.Context(), level) {
				return
			}
			attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("took", time.Since(start))}
			if rec.status == http.StatusTooManyRequests || rec.status == http.StatusServiceUnavailable {
				left, ok := shed.admit(start)
				if !ok {
					return
				}
				if left > 0 {
					attrs = append(attrs, slog.Int("refusals_not_logged", left))
				}
			}
			log.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// shedLog lets one refusal a second into the log and counts the others.
type shedLog struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// admit says whether the refusal at now is logged and, if so, how many
// were left out since the last one that was.
func (s *shedLog) admit(now time.Time) (skipped int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.last) < time.Second {
		s.skipped++
		return 0, false
	}
	skipped, s.last, s.skipped = s.skipped, now, 0
	return skipped, true
}

// recoverPanics turns a handler panic into a logged 500 with a JSON body.
// http.ErrAbortHandler is re-raised: it is how a handler aborts on purpose.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					writeError(w, r, log, fmt.Errorf("panic: %v", v))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// apiPolicy is the Content-Security-Policy of every answer that is not
// the page (which sets its own, in web/): JSON loads nothing, and nothing
// may frame it.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders are the headers secureHeaders sets, their names already
// canonical so that they go into the header map as they are.
//
// Cross-Origin-Opener-Policy is left out on purpose. The page is the only
// document, cannot be framed and opens no windows; COOP would only cut the
// handle another site's window could hold on it. Its cost is not nothing:
// a browser's first navigation (every fresh headless browser in an
// end-to-end test) must start a new renderer process for a COOP document,
// about 60 ms before the page's first paint (docs/benchmarks.md, figure 6).
var securityHeaders = [...]struct{ name, value string }{
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Content-Security-Policy", apiPolicy},
	{"Cache-Control", "no-store"},
}

// secureHeaders sets headers that cost nothing and close common holes. The
// page's handler replaces the policy and the caching with its own; every
// API answer keeps them, so no token or error is ever cached or framed.
//
// The values share one array per request instead of one allocation and
// one canonicalisation per header (Header.Set); each slice is capped at
// its own element, so a later Add appends elsewhere.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		values := make([]string, len(securityHeaders))
		for i, sh := range securityHeaders {
			values[i] = sh.value
			h[sh.name] = values[i : i+1 : i+1]
		}
		next.ServeHTTP(w, r)
	})
}

// jsonOnly guards the cookie-authenticated routes that take no body
// (refresh, logout, an operator's revoke): a body, or a Content-Type, must
// be JSON. A browser sends JSON across sites only after a CORS preflight,
// which this server grants only to TOKENLAB_ALLOWED_ORIGINS, so a forged
// form or text/plain post fails here even where an old browser sends
// neither Origin nor Sec-Fetch-Site.
func jsonOnly(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hasBody := r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
			if (hasBody || r.Header.Get("Content-Type") != "") && mediaType(r) != "application/json" {
				writeError(w, r, log, &Error{Code: CodeUnsupportedMedia,
					Message: r.URL.Path + " takes no body; send none, or JSON with Content-Type: application/json"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// statusRecorder remembers the status for the log. It passes Hijack and
// Flush through, so WebSocket upgrades and streaming still work behind it.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		s.status = http.StatusSwitchingProtocols
		return h.Hijack()
	}
	return nil, nil, fmt.Errorf("api: %T cannot be hijacked", s.ResponseWriter)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
