package api

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/session"
)

// SessionsResponse answers GET /admin/sessions.
type SessionsResponse struct {
	Sessions    []hub.Info `json:"sessions"`
	Connections int        `json:"connections"`
	// Limits in effect: connections per session and in total.
	MaxConnsPerSession int `json:"max_conns_per_session"`
	MaxConns           int `json:"max_conns"`
	// Faults are the lab's orders in force, by session id.
	Faults map[string]hub.FaultState `json:"faults,omitempty"`
	// SDKConnections are the Twilio SDK connections (twilsock and Voice
	// signaling), open and recently closed, by identity.
	SDKConnections []sdkconn.Status `json:"sdk_connections"`
}

// RevokeResponse answers POST /admin/sessions/{id}/revoke.
type RevokeResponse struct {
	Revoked string `json:"revoked"`
	// Live tells whether the session had a token or a connection here; a
	// session the server has not seen since it started is revoked anyway.
	Live bool `json:"live"`
}

// requireAdmin guards the operator endpoints. With an admin token
// configured it wants "Authorization: Bearer <token>" (compared in
// constant time) from anywhere; without one it answers local clients
// only: from loopback, and not through a proxy.
func requireAdmin(log *slog.Logger, adminToken mint.Secret) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if adminToken == "" {
				if !fromLoopback(r) {
					writeError(w, r, log, &Error{Code: CodeAdminForbidden,
						Message: "the operator endpoints answer loopback clients only: set TOKENLAB_ADMIN_TOKEN to use them from elsewhere"})
					return
				}
				if mark := proxyMark(r); mark != "" {
					writeError(w, r, log, &Error{Code: CodeAdminForbidden,
						Message: "the request came through a proxy (it carries " + mark + "), so it is not local: set TOKENLAB_ADMIN_TOKEN and send it as Authorization: Bearer <token> to use the operator endpoints"})
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(adminToken.Reveal())) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tokenlab admin"`)
				writeError(w, r, log, &Error{Code: CodeAdminUnauthorized,
					Message: "send the admin token as Authorization: Bearer <TOKENLAB_ADMIN_TOKEN>"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// operatorSameOrigin keeps the operator routes to programs (the CLI,
// curl, a test's HTTP client) and tokenlab's own page. The server-wide
// CrossOriginProtection trusts TOKENLAB_ALLOWED_ORIGINS, whose pages may
// use the token routes and their own session's lab; without this, such a
// page in a browser on the operator's machine (a loopback client, which
// is all the operator auth asks for without a token) could revoke, expire
// or drop any session it knows the id of, with POSTs that need no
// preflight.
func operatorSameOrigin(log *slog.Logger) func(http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection() // no trusted origins
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, &Error{Code: CodeCrossOrigin,
			Message: "the operator routes refuse pages at other origins, " + config.EnvAllowedOrigins +
				" included: a page orders its own session's faults with POST /lab/…; call /admin/… from a program"})
	}))
	return cop.Handler
}

// proxyHeaders are the headers proxies add to say whom they forward for,
// in canonical form. Behind a proxy on the same host every connection is
// from loopback, so the connection's address no longer tells an operator
// at this machine from anyone the proxy serves.
var proxyHeaders = [...]string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Via"}

// proxyMark names the first proxy header r carries, or "". A header sent
// empty counts: a proxy's mark is its presence.
func proxyMark(r *http.Request) string {
	for _, h := range proxyHeaders {
		if _, ok := r.Header[h]; ok {
			return h
		}
	}
	return ""
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handleAdminSessions lists the live sessions: GET /admin/sessions.
func handleAdminSessions(h *hub.Hub, sdk *sdkconn.Directory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		per, total := h.Limits()
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, SessionsResponse{Sessions: h.Sessions(), Connections: h.Connections(),
			MaxConnsPerSession: per, MaxConns: total, Faults: h.Faults(), SDKConnections: sdk.All()})
	})
}

// handleAdminRevoke ends a session: POST /admin/sessions/{id}/revoke. Its
// tabs get "revoked" (reason "operator") and close code 4001, and its
// cookie is refused from then on.
func handleAdminRevoke(log *slog.Logger, sessions *session.Manager, h *hub.Hub, sdk sdkLabs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !validSessionID(id) {
			writeError(w, r, log, &Error{Code: CodeInvalidField, Field: "id",
				Message: "id must be a session id as GET /admin/sessions lists it (26 characters A-Z and 2-7)"})
			return
		}
		var err error
		s, live := h.Lookup(id)
		if live {
			err = sessions.Revoke(s)
		} else {
			err = sessions.RevokeID(id)
		}
		if err != nil && !errors.Is(err, session.ErrNotSaved) {
			writeError(w, r, log, err)
			return
		}
		h.Revoke(id, "operator")
		if live {
			sdk.apply(s.Identity, sdkconn.FaultRevoke, 0)
		}
		if err != nil {
			writeError(w, r, log, notSaved(r, log, id, err))
			return
		}
		log.InfoContext(r.Context(), "session revoked by an operator", "session", id, "live", live)
		encode(w, http.StatusOK, RevokeResponse{Revoked: id, Live: live})
	})
}

// validSessionID accepts what crypto/rand.Text makes: 26 characters of
// the base32 alphabet.
func validSessionID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
