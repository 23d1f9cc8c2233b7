package api

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Machine-readable error codes, documented in docs/api.md.
const (
	CodeBadCredentials     = "bad_credentials"     // 401: wrong username or password
	CodeMissingCredentials = "missing_credentials" // 401: no username or no password
	CodeGrantNotAllowed    = "grant_not_allowed"   // 403: the user's policy excludes a grant
	CodeCrossOrigin        = "cross_origin"        // 403: a browser request from another origin
	CodeInvalidField       = "invalid_field"       // 400: a field has a bad value or type
	CodeUnknownField       = "unknown_field"       // 400: a field the endpoint does not take
	CodeDuplicateField     = "duplicate_field"     // 400: a field or JSON key given twice
	CodeBadJSON            = "bad_json"            // 400: the body is not JSON
	CodeBodyTooLarge       = "body_too_large"      // 413: over MaxBodyBytes
	CodeUnsupportedMedia   = "unsupported_media"   // 415: not JSON or a form
	CodeMethodNotAllowed   = "method_not_allowed"  // 405: see the Allow header
	CodeNotFound           = "not_found"           // 404
	CodeRequestTimeout     = "request_timeout"     // 408: the body did not arrive in time
	CodeRateLimited        = "rate_limited"        // 429: too many failed sign-ins; see Retry-After
	CodeBusy               = "busy"                // 503: too many password checks at once; see Retry-After
	CodeInternal           = "internal"            // 500: logged on the server
)

// Error is an error a client can act on. Handlers return one directly or
// let writeError map a sentinel to one.
type Error struct {
	Status  int
	Code    string
	Message string // what was wrong and what to do
	Field   string // the request field at fault, when there is one
}

func (e *Error) Error() string { return e.Message }

// errorBody is the JSON shape of every error answer:
// {"error":{"code":"…","message":"…","field":"…"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
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
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
			Message: "the request body is larger than 64 KiB: send only the fields the endpoint takes"}, false
	case errors.As(err, &netErr) && netErr.Timeout():
		// The server's ReadTimeout passed while the body was still coming.
		return &Error{Status: http.StatusRequestTimeout, Code: CodeRequestTimeout,
			Message: "the request body did not arrive in time: send the whole request at once"}, false
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeBadJSON,
			Message: "the body ended before its Content-Length: send the whole body"}, false
	case errors.As(err, &grantErr):
		return &Error{Status: http.StatusForbidden, Code: CodeGrantNotAllowed, Field: "grants." + grantErr.Key,
			Message: "grants." + grantErr.Key + " is not allowed for user " + grantErr.Identity + ": ask without it, or have an operator add it with `tokenlab useradd --grants`"}, false
	case errors.Is(err, users.ErrBadCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: CodeBadCredentials,
			Message: "wrong username or password"}, false
	case errors.As(err, &fieldErr):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: fieldErr.Field,
			Message: fieldErr.Error()}, false
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "the server failed to handle the request; it has been logged"}, true
}

// writeError answers with err as a JSON error body; internal errors are
// logged with detail and shown plainly.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, internal := toError(err)
	if internal {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	encode(w, e.Status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
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
		writeError(w, r, log, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
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
		writeError(w, r, log, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
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
