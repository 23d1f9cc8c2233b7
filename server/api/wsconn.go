package api

import (
	"context"
	"errors"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// Connection hygiene, after gorilla/websocket's chat example.
const (
	// writeWait is the time allowed to write one message, ping or close
	// frame. A peer that does not take a message in time is dropped.
	writeWait = 10 * time.Second
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
	// hub.DefaultSendBuffer: every message is answered through the send queue,
	// and a burst of answers must not look like a client that stopped
	// reading.
	MessageRate  = 5
	MessageBurst = 10
)

// pingPeriod is how often the server pings a peer it drops after pongWait
// of silence: shorter than pongWait, so that a live peer's pong always
// arrives in time.
func pingPeriod(pongWait time.Duration) time.Duration { return pongWait * 9 / 10 }

// closeBinary answers a binary frame (1003 unsupported data).
const closeBinary = websocket.CloseUnsupportedData

// closeFrame is a close frame's payload: code, and reason cut to fit.
func closeFrame(code int, reason string) []byte {
	return websocket.FormatCloseMessage(code, protocol.CloseReason(reason))
}

// serveConn starts the connection's two goroutines, one reading and one
// writing, and returns. The caller (an HTTP handler) may then end: its
// goroutine carries the deep stack of the HTTP server, which an idle
// connection should not keep. ctx's values are kept, its cancellation is
// not (the request's context ends with the handler). The reader detaches
// c from the hub when the connection ends.
func serveConn(ctx context.Context, ws *websocket.Conn, h *hub.Hub, c *hub.Client) {
	c.SetKill(func() { ws.NetConn().Close() })
	ctx = context.WithoutCancel(ctx)
	readerDone := make(chan struct{})
	go writePump(ws, c, h.PongWait(), readerDone)
	go func() {
		readPump(ctx, ws, h, c)
		close(readerDone)
		h.Detach(c)
	}()
}

// readPump reads client messages, answering each through the client's
// queue. After asking for a close it keeps reading (and ignoring) until
// the peer's close frame arrives, so that its close code is not lost.
func readPump(ctx context.Context, ws *websocket.Conn, h *hub.Hub, c *hub.Client) {
	pongWait := h.PongWait()
	ws.SetReadLimit(maxMessageSize)
	ws.SetReadDeadline(time.Now().Add(pongWait))
	limiter := rate.NewLimiter(MessageRate, MessageBurst)
	closing := false
	closeWith := func(code int, reason string) {
		c.Close(code, reason)
		closing = true
		ws.SetReadDeadline(time.Now().Add(closeGrace + writeWait))
	}
	// accept says whether to act on a frame from the peer: not once the
	// connection is closing, nor past the rate limit, which every frame
	// counts against (messages, pings and pongs alike: a ping costs the
	// server a pong, and a flood of them is a flood like any other).
	accept := func() bool {
		select {
		case <-c.Done():
			closing = true
		default:
		}
		if closing {
			return false
		}
		if !limiter.Allow() {
			const text = "more than 5 messages a second: slow down"
			h.ReplyError(c, protocol.ErrCodeRateLimited, text)
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
		return ws.SetReadDeadline(time.Now().Add(pongWait))
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
		ws.SetReadDeadline(time.Now().Add(pongWait))
		if kind != websocket.TextMessage {
			closeWith(closeBinary, "binary frames are not accepted: send JSON text")
			continue
		}
		h.Handle(ctx, c, data)
	}
}

// writePump is the connection's only writer: queued messages, pings, and
// finally the close frame the hub asked for.
func writePump(ws *websocket.Conn, c *hub.Client, pongWait time.Duration, readerDone <-chan struct{}) {
	ticker := time.NewTicker(pingPeriod(pongWait))
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
		case msg := <-c.Send():
			if err := write(msg); err != nil {
				c.Abort()
				return
			}
		case <-ticker.C:
			ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.Abort()
				return
			}
		case <-c.Done():
			code, reason, drain := c.CloseCode()
			for drain {
				select {
				case msg := <-c.Send():
					if write(msg) != nil {
						return
					}
				default:
					drain = false
				}
			}
			if code == 0 || c.Aborted() {
				return // aborted: nothing more can be written
			}
			if ws.WriteControl(websocket.CloseMessage, closeFrame(code, reason), time.Now().Add(writeWait)) != nil {
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
