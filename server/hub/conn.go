package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tokenlab/tokenlab/server/jsonkeys"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// Connection hygiene, after gorilla/websocket's chat example.
const (
	// writeWait is the time allowed to write one message, ping or close
	// frame. A peer that does not take a message in time is dropped.
	writeWait = 10 * time.Second
	// pongWait is the time allowed between two frames from the peer (a
	// pong or a message); past it the peer is considered gone.
	pongWait = 60 * time.Second
	// maxMessageSize bounds a client message in bytes. Client messages are
	// small JSON objects ({"type":"renew","id":"…"}); a larger one closes
	// the connection with 1009.
	maxMessageSize = 512
	// closeGrace is how long the server waits for the peer to answer its
	// close frame before closing the TCP connection, so the peer reads the
	// close code instead of a reset.
	closeGrace = time.Second
	// MessageRate and MessageBurst bound the messages one connection may
	// send: a sustained rate per second and a burst. Past them the
	// connection is closed with 4029. The burst stays well below
	// DefaultSendBuffer: every message is answered through the send queue,
	// and a burst of answers must not look like a client that stopped
	// reading.
	MessageRate  = 5
	MessageBurst = 10
)

// pingPeriod is how often the server pings a peer it drops after pongWait
// of silence: shorter than pongWait, so that a live peer's pong always
// arrives in time.
func pingPeriod(pongWait time.Duration) time.Duration { return pongWait * 9 / 10 }

// Close codes besides protocol's own.
const (
	closeGoingAway = websocket.CloseGoingAway       // 1001: server shutting down
	closeTooSlow   = websocket.ClosePolicyViolation // 1008: recorded for a dropped reader
	closeBinary    = websocket.CloseUnsupportedData // 1003: a binary frame
)

// maxCloseReason is the longest reason a close frame can carry (125 bytes
// of payload minus the 2-byte code).
const maxCloseReason = 123

// Serve starts the connection's two goroutines, one reading and one
// writing, and returns. The caller (an HTTP handler) may then end: its
// goroutine carries the deep stack of the HTTP server, which an idle
// connection should not keep. ctx's values are kept, its cancellation is
// not (the request's context ends with the handler). The reader detaches
// c from the hub when the connection ends.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, c *Client) {
	c.setKill(func() { ws.NetConn().Close() })
	ctx = context.WithoutCancel(ctx)
	readerDone := make(chan struct{})
	go h.writePump(ws, c, readerDone)
	go func() {
		h.readPump(ctx, ws, c)
		close(readerDone)
		h.Detach(c)
	}()
}

// readPump reads client messages, answering each through the client's
// queue. After asking for a close it keeps reading (and ignoring) until
// the peer's close frame arrives, so that its close code is not lost.
func (h *Hub) readPump(ctx context.Context, ws *websocket.Conn, c *Client) {
	ws.SetReadLimit(maxMessageSize)
	ws.SetReadDeadline(time.Now().Add(h.o.PongWait))
	limiter := rate.NewLimiter(MessageRate, MessageBurst)
	closing := false
	closeWith := func(code int, reason string) {
		c.shut(code, reason, true)
		closing = true
		ws.SetReadDeadline(time.Now().Add(closeGrace + writeWait))
	}
	// accept says whether to act on a frame from the peer: not once the
	// connection is closing, nor past the rate limit, which every frame
	// counts against (messages, pings and pongs alike: a ping costs the
	// server a pong, and a flood of them is a flood like any other).
	accept := func() bool {
		select {
		case <-c.done:
			closing = true
		default:
		}
		if closing {
			return false
		}
		if !limiter.AllowN(h.o.Now(), 1) {
			const text = "more than 5 messages a second: slow down"
			c.reply(errorMessage(h.o.Now(), "", protocol.ErrCodeRateLimited, text))
			closeWith(protocol.CloseRateLimited, text)
			return false
		}
		return true
	}
	// The control frame handlers run inside ReadMessage, on this goroutine.
	ws.SetPongHandler(func(string) error {
		if !accept() {
			return nil
		}
		return ws.SetReadDeadline(time.Now().Add(h.o.PongWait))
	})
	ws.SetPingHandler(func(data string) error {
		if !accept() {
			return nil
		}
		// As gorilla's default handler: a pong that cannot be written
		// because the connection is closing is not an error.
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if !accept() {
			continue
		}
		ws.SetReadDeadline(time.Now().Add(h.o.PongWait))
		if kind != websocket.TextMessage {
			closeWith(closeBinary, "binary frames are not accepted: send JSON text")
			continue
		}
		h.handle(ctx, c, data)
	}
}

// handle answers one client message.
func (h *Hub) handle(ctx context.Context, c *Client, data []byte) {
	now := h.o.Now()
	m, err := protocol.Decode(data)
	if err != nil {
		c.reply(errorMessage(now, "", protocol.ErrCodeBadMessage, err.Error()))
		return
	}
	// Decode keeps the last copy of a key, as encoding/json does; which
	// copy the client meant is anyone's guess, so neither is acted on (and
	// the answer carries no id, which may be one of them).
	if path, dup := jsonkeys.Duplicate(data); dup {
		c.reply(errorMessage(now, "", protocol.ErrCodeBadMessage,
			fmt.Sprintf("bad message: %+q is given more than once: send each field once", path)))
		return
	}
	switch m.Type {
	case protocol.TypePing:
		c.reply(protocol.Encode(protocol.Message{Type: protocol.TypePong, ID: m.ID, ServerTimeMS: now.UnixMilli()}))
	case protocol.TypeRenew:
		_, err := h.renew(ctx, c.e.sess, c, m.ID)
		switch {
		case err == nil: // answered by renew
		case errors.Is(err, ErrSessionGone), errors.Is(err, ErrShuttingDown):
			c.reply(errorMessage(h.o.Now(), m.ID, protocol.ErrCodeSessionGone, err.Error()))
		default:
			h.log.ErrorContext(ctx, "renewal failed", "session", c.SessionID(), "err", err)
			c.reply(errorMessage(h.o.Now(), m.ID, protocol.ErrCodeRenewFailed, "the server could not mint a token: try again shortly"))
		}
	default:
		c.reply(errorMessage(now, m.ID, protocol.ErrCodeBadMessage,
			"bad message: \""+m.Type+"\" is sent by the server; a client sends \"renew\" or \"ping\""))
	}
}

func errorMessage(now time.Time, id, code, text string) []byte {
	return protocol.Encode(protocol.Message{Type: protocol.TypeError, ID: id, ServerTimeMS: now.UnixMilli(), Code: code, Text: text})
}

// writePump is the connection's only writer: queued messages, pings, and
// finally the close frame the hub asked for.
func (h *Hub) writePump(ws *websocket.Conn, c *Client, readerDone <-chan struct{}) {
	ticker := time.NewTicker(pingPeriod(h.o.PongWait))
	defer func() {
		ticker.Stop()
		ws.Close()
	}()
	write := func(msg []byte) error {
		ws.SetWriteDeadline(time.Now().Add(writeWait))
		return ws.WriteMessage(websocket.TextMessage, msg)
	}
	for {
		select {
		case msg := <-c.send:
			if err := write(msg); err != nil {
				c.abort(0, "")
				return
			}
		case <-ticker.C:
			ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.abort(0, "")
				return
			}
		case <-c.done:
			code, reason, drain := c.CloseCode()
			for drain {
				select {
				case msg := <-c.send:
					if write(msg) != nil {
						return
					}
				default:
					drain = false
				}
			}
			if code == 0 || code == closeTooSlow {
				return // aborted: nothing more can be written
			}
			if len(reason) > maxCloseReason {
				reason = reason[:maxCloseReason]
			}
			if ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait)) != nil {
				return
			}
			t := time.NewTimer(closeGrace)
			select {
			case <-readerDone:
			case <-t.C:
			}
			t.Stop()
			return
		}
	}
}
