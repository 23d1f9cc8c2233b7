package api

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/session"
)

// upgrader keeps per-connection memory small: 1 KiB read buffers, and
// write buffers borrowed from a pool only while a message is written
// (messages are a few hundred bytes and rare), so an idle connection holds
// no write buffer at all.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
	// The origin is checked by handleWS before upgrading, with a JSON
	// answer; by then it is known to be acceptable.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleWS upgrades a signed-in, same-origin request to the session's
// WebSocket (GET /ws): the hub greets it, warns of expiry, pushes renewals
// and answers "renew" and "ping". docs/protocol.md describes the messages.
func handleWS(log *slog.Logger, sessions *session.Manager, h *hub.Hub, allowedOrigins []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r, allowedOrigins) {
			writeError(w, r, log, &Error{Code: CodeCrossOrigin,
				Message: "WebSocket from another origin refused: open it from the page this server serves, or add your origin to TOKENLAB_ALLOWED_ORIGINS"})
			return
		}
		s, err := sessions.FromRequest(r)
		if err != nil {
			writeSessionError(w, r, log, err)
			return
		}
		if !websocket.IsWebSocketUpgrade(r) {
			writeError(w, r, log, &Error{Code: CodeNotWebSocket,
				Message: "GET /ws is a WebSocket endpoint: connect with a WebSocket client (see docs/protocol.md)"})
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		c, err := h.Attach(s)
		if err != nil {
			refuse(ws, err)
			return
		}
		serveConn(r.Context(), ws, h, c)
	})
}

// refuse closes a connection the hub would not take, with a close code
// that tells the client what to do.
func refuse(ws *websocket.Conn, err error) {
	code := closeCode(err)
	ws.WriteControl(websocket.CloseMessage, closeFrame(code, err.Error()), time.Now().Add(time.Second))
	ws.Close()
}

// sameOrigin accepts requests without an Origin header (programs, not
// browsers: browsers always send one on WebSocket upgrades), an Origin
// whose host is the request's own, or one listed in allowed.
func sameOrigin(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range allowed {
		if strings.EqualFold(origin, a) {
			return true
		}
	}
	return false
}
