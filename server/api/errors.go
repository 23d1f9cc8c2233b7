package api

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Machine-readable error codes, documented in docs/api.md. Each has one
// status, in statusOf: handlers choose the code, never the status.
const (
	CodeBadJSON            = "bad_json"             // the body is not JSON
	CodeInvalidField       = "invalid_field"        // a field has a bad value or type
	CodeUnknownField       = "unknown_field"        // a field the endpoint does not take
	CodeDuplicateField     = "duplicate_field"      // a field or JSON key given twice
	CodeNotWebSocket       = "not_websocket"        // a plain HTTP request to GET /ws
	CodeBadCredentials     = "bad_credentials"      // wrong username or password
	CodeMissingCredentials = "missing_credentials"  // no username or no password
	CodeNoSession          = "no_session"           // no session cookie: sign in
	CodeSessionInvalid     = "session_invalid"      // altered, truncated or foreign cookie
	CodeSessionExpired     = "session_expired"      // past its absolute lifetime
	CodeSessionRevoked     = "session_revoked"      // logged out or revoked by an operator
	CodeAdminUnauthorized  = "admin_unauthorized"   // missing or wrong admin token
	CodeGrantNotAllowed    = "grant_not_allowed"    // the user's policy excludes a grant
	CodeCrossOrigin        = "cross_origin"         // a browser request from another origin
	CodeAdminForbidden     = "admin_forbidden"      // no admin token configured and not from loopback
	CodeNotFound           = "not_found"            // no such endpoint
	CodeMethodNotAllowed   = "method_not_allowed"   // see the Allow header
	CodeRequestTimeout     = "request_timeout"      // the body did not arrive in time
	CodeBodyTooLarge       = "body_too_large"       // over MaxBodyBytes
	CodeUnsupportedMedia   = "unsupported_media"    // not JSON or a form
	CodeHostNotAllowed     = "host_not_allowed"     // a name the server does not answer for
	CodeRateLimited        = "rate_limited"         // too many failed sign-ins; see Retry-After
	CodeInternal           = "internal"             // logged on the server
	CodeNotSaved           = "revocation_not_saved" // ended, but not written to the state directory
	CodeUnavailable        = "unavailable"          // shutting down, or the revocation list is full
	CodeBusy               = "busy"                 // too many password checks at once; see Retry-After
	// The lab's codes: its routes are off, or a renewal failed on purpose.
	CodeLabOff          = "lab_off"          // TOKENLAB_LAB is off
	CodeNotLive         = "session_not_live" // no token or socket of the session on this server
	CodeNoToken         = "no_token"         // expire/warn before the session has a token here
	CodeLabUnauthorized = "lab_unauthorized" // a renewal failed on purpose with 401
	CodeLabRateLimited  = "lab_rate_limited" // … with 429 and Retry-After
	CodeLabInternal     = "lab_internal"     // … with 500
	CodeLabUnavailable  = "lab_unavailable"  // … with 503 and Retry-After
)

// statusOf is the HTTP status of each error code.
var statusOf = map[string]int{
	CodeBadJSON:            http.StatusBadRequest,
	CodeInvalidField:       http.StatusBadRequest,
	CodeUnknownField:       http.StatusBadRequest,
	CodeDuplicateField:     http.StatusBadRequest,
	CodeNotWebSocket:       http.StatusBadRequest,
	CodeBadCredentials:     http.StatusUnauthorized,
	CodeMissingCredentials: http.StatusUnauthorized,
	CodeNoSession:          http.StatusUnauthorized,
	CodeSessionInvalid:     http.StatusUnauthorized,
	CodeSessionExpired:     http.StatusUnauthorized,
	CodeSessionRevoked:     http.StatusUnauthorized,
	CodeAdminUnauthorized:  http.StatusUnauthorized,
	CodeGrantNotAllowed:    http.StatusForbidden,
	CodeCrossOrigin:        http.StatusForbidden,
	CodeAdminForbidden:     http.StatusForbidden,
	CodeNotFound:           http.StatusNotFound,
	CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	CodeRequestTimeout:     http.StatusRequestTimeout,
	CodeBodyTooLarge:       http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia:   http.StatusUnsupportedMediaType,
	CodeHostNotAllowed:     http.StatusMisdirectedRequest,
	CodeRateLimited:        http.StatusTooManyRequests,
	CodeInternal:           http.StatusInternalServerError,
	CodeNotSaved:           http.StatusInternalServerError,
	CodeUnavailable:        http.StatusServiceUnavailable,
	CodeBusy:               http.StatusServiceUnavailable,
	CodeLabOff:             http.StatusForbidden,
	CodeNotLive:            http.StatusNotFound,
	CodeNoToken:            http.StatusConflict,
	CodeLabUnauthorized:    http.StatusUnauthorized,
	CodeLabRateLimited:     http.StatusTooManyRequests,
	CodeLabInternal:        http.StatusInternalServerError,
	CodeLabUnavailable:     http.StatusServiceUnavailable,
}

// Error is an error a client can act on. Handlers return one directly or
// let toError map a sentinel to one.
type Error struct {
	Code    string
	Message string // what was wrong and what to do
	Field   string // the request field at fault, when there is one
}

func (e *Error) Error() string { return e.Message }

// Status is the HTTP status of e's code.
func (e *Error) Status() int {
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// toError maps any error to the answer a client sees. Only unexpected
// errors become 500s; their detail stays in the log.
func toError(err error) (e *Error, internal bool) {
	var apiErr *Error
	var fieldErr *token.FieldError
	var grantErr *users.GrantError
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr, false
	case errors.As(err, &tooBig):
		return &Error{Code: CodeBodyTooLarge,
			Message: "the request body is larger than 64 KiB: send only the fields the endpoint takes"}, false
	case errors.As(err, &netErr) && netErr.Timeout():
		// The server's ReadTimeout passed while the body was still coming.
		return &Error{Code: CodeRequestTimeout,
			Message: "the request body did not arrive in time: send the whole request at once"}, false
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Code: CodeBadJSON,
			Message: "the body ended before its Content-Length: send the whole body"}, false
	case errors.As(err, &grantErr):
		return &Error{Code: CodeGrantNotAllowed, Field: "grants." + grantErr.Key,
			Message: "grants." + grantErr.Key + " is not allowed for user " + grantErr.Identity + ": ask without it, or have an operator add it with `tokenlab useradd --grants`"}, false
	case errors.Is(err, users.ErrBadCredentials):
		return &Error{Code: CodeBadCredentials,
			Message: "wrong username or password"}, false
	case errors.Is(err, session.ErrNoSession):
		return &Error{Code: CodeNoSession, Message: err.Error()}, false
	case errors.Is(err, session.ErrMalformed), errors.Is(err, session.ErrForged):
		return &Error{Code: CodeSessionInvalid, Message: err.Error()}, false
	case errors.Is(err, session.ErrExpired):
		return &Error{Code: CodeSessionExpired, Message: err.Error()}, false
	case errors.Is(err, session.ErrRevoked), errors.Is(err, hub.ErrSessionGone):
		return &Error{Code: CodeSessionRevoked, Message: err.Error()}, false
	case errors.Is(err, session.ErrRevocationsFull):
		return &Error{Code: CodeUnavailable,
			Message: "the server's list of ended sessions is full (" + strconv.Itoa(session.MaxRevocations) + " entries): sign in again when older ones expire, or ask the operator to shorten " + config.EnvSessionLifetime}, false
	case errors.Is(err, hub.ErrNoToken):
		return &Error{Code: CodeNoToken, Message: err.Error()}, false
	case errors.Is(err, hub.ErrNotLive):
		return &Error{Code: CodeNotLive, Message: err.Error()}, false
	case errors.Is(err, hub.ErrTooManyFaults):
		return &Error{Code: CodeUnavailable, Message: err.Error()}, false
	case errors.Is(err, hub.ErrShuttingDown):
		return &Error{Code: CodeUnavailable, Message: "the server is shutting down: retry in a moment"}, false
	case errors.As(err, &fieldErr):
		return &Error{Code: CodeInvalidField, Field: fieldErr.Field,
			Message: fieldErr.Error()}, false
	}
	return &Error{Code: CodeInternal,
		Message: "the server failed to handle the request; it has been logged"}, true
}

// writeError answers with err as a JSON error body; internal errors are
// logged with detail and shown plainly.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, internal := toError(err)
	if internal {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	encode(w, e.Status(), protocol.ErrorAnswer{Error: protocol.ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}

// closeCode is the close code of a WebSocket the hub would not take, which
// tells the client what to do: sign in again (4001), come back later
// (1001), or close a tab (4008).
func closeCode(err error) int {
	switch {
	case errors.Is(err, hub.ErrSessionGone):
		return protocol.CloseRevoked
	case errors.Is(err, hub.ErrShuttingDown):
		return websocket.CloseGoingAway
	}
	return protocol.CloseTooMany
}

// pagePattern is the page's catch-all route in routes.go.
const pagePattern = "GET /"

// unrouted answers the requests no route of mux takes, in JSON: 405 with
// an Allow header when the path exists for other methods, 404 otherwise.
// The page's catch-all matches every GET, so a GET on an API path (GET
// /token) is checked against the other methods first.
func unrouted(mux *http.ServeMux, log *slog.Logger) http.Handler {
	notAllowed := func(w http.ResponseWriter, r *http.Request, allow string) {
		w.Header().Set("Allow", allow)
		writeError(w, r, log, &Error{Code: CodeMethodNotAllowed,
			Message: r.Method + " is not allowed on " + r.URL.Path + ": use " + allow})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" || pattern == pagePattern {
			if allow := apiMethods(mux, r); allow != "" {
				notAllowed(w, r, allow)
				return
			}
		}
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			notAllowed(w, r, probe.header.Get("Allow"))
			return
		}
		writeError(w, r, log, &Error{Code: CodeNotFound,
			Message: "no such endpoint: " + r.Method + " " + r.URL.Path + " (see docs/api.md)"})
	})
}

// apiMethods lists the methods routed on r's path by a route other than
// the page, e.g. "POST" for /token, "GET, HEAD" for /healthz.
func apiMethods(mux *http.ServeMux, r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" && p != pagePattern {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	return strings.Join(allow, ", ")
}

// headerProbe records what the mux's own error handlers answer, and drops
// their plain-text body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }
