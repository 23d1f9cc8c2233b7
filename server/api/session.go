package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
)

// startSession starts a session for a freshly minted token's identity,
// grants and ttl, hands the token to the hub and sets the cookie.
func startSession(w http.ResponseWriter, r *http.Request, sessions *session.Manager, h *hub.Hub, u users.User, m mint.Minted) (id string, err error) {
	s, value, err := sessions.StartWith(u.Identity, u.Credential, m.Claims.Grants, m.Claims.Exp-m.Claims.Nbf)
	if errors.Is(err, session.ErrTooLarge) {
		return "", &Error{Code: CodeInvalidField, Field: "grants", Message: err.Error()}
	}
	if err != nil {
		return "", err
	}
	if err := h.Issued(s, m); err != nil {
		return "", err
	}
	session.SetCookie(w, r, value, s.Expires)
	return s.ID, nil
}

// handleRefresh mints a fresh token for the caller's session, without the
// password: POST /token/refresh. Renewals of one session are coalesced by
// the hub and pushed to every tab of the session.
//
// With ?probe=1 a request without a session cookie is answered 204 instead
// of 401: the page asks on every load whether the browser still has a
// session, and a visitor who never signed in is not an error (end-to-end
// suites fail on console errors). A cookie that no longer opens still
// gets its 401, once: the answer clears it.
func handleRefresh(log *slog.Logger, sessions *session.Manager, h *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.FromRequest(r)
		if errors.Is(err, session.ErrNoSession) && r.URL.Query().Get("probe") == "1" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err != nil {
			writeSessionError(w, r, log, err)
			return
		}
		m, err := h.Renew(r.Context(), s)
		if err != nil {
			writeSessionError(w, r, log, faultError(w, err))
			return
		}
		// Cache-Control: no-store comes with secureHeaders, as on every API answer.
		encode(w, http.StatusOK, tokenResponse(m, s.ID))
	})
}

// handleLogout ends the caller's session: POST /logout. Its tabs get
// "revoked" and close code 4001, and the cookie is cleared.
func handleLogout(log *slog.Logger, sessions *session.Manager, h *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.FromRequest(r)
		if err != nil {
			writeSessionError(w, r, log, err)
			return
		}
		err = sessions.Revoke(s)
		if err != nil && !errors.Is(err, session.ErrNotSaved) {
			writeError(w, r, log, err)
			return
		}
		// In force even when not saved: the sockets hear it as HTTP does.
		h.Revoke(s.ID, "logout")
		session.ClearCookie(w, r)
		if err != nil {
			writeError(w, r, log, notSaved(r, log, s.ID, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func tokenResponse(m mint.Minted, sessionID string) TokenResponse {
	return TokenResponse{
		SessionID: sessionID,
		Token:     m.Token,
		Identity:  m.Claims.Identity(),
		JTI:       m.Claims.JTI,
		ExpiresAt: m.Claims.Exp,
		TTL:       m.Claims.Exp - m.Claims.Nbf,
	}
}

// notSaved answers a revocation that is in force but could not be written
// to the state directory: the operator learns why from the log, the
// client that the session is over all the same.
func notSaved(r *http.Request, log *slog.Logger, id string, err error) error {
	log.ErrorContext(r.Context(), "revocation not saved: a restart would forget it; make "+config.EnvStateDir+" writable", "session", id, "err", err)
	return &Error{Code: CodeNotSaved,
		Message: "the session is ended, but the server could not save that in " + config.EnvStateDir + ", so a restart would forget it: tell the operator (see the server's log)"}
}

// writeSessionError answers with a session error; a cookie that can never
// open again (altered, expired, revoked) is cleared as well.
func writeSessionError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	// The lab's 401 is a rehearsal: the session goes on.
	if e, _ := toError(err); e.Status() == http.StatusUnauthorized && e.Code != CodeNoSession && e.Code != CodeLabUnauthorized {
		session.ClearCookie(w, r)
	}
	writeError(w, r, log, err)
}
