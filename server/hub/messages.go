package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/server/jsonkeys"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// pongWait is the default time allowed between two frames from the peer
// (a pong or a message); past it the peer is considered gone.
const pongWait = 60 * time.Second

// Close codes the hub asks for besides protocol's own.
const (
	closeGoingAway = 1001 // the server is shutting down
	closeTooSlow   = 1008 // policy violation: recorded for a dropped reader
)

// PongWait is how long a connection may stay silent before its transport
// drops it.
func (h *Hub) PongWait() time.Duration { return h.o.PongWait }

// Handle answers one client message, read by the connection's transport.
func (h *Hub) Handle(ctx context.Context, c *Client, data []byte) {
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
		var fault *FaultError
		switch {
		case err == nil: // answered by renew
		case errors.As(err, &fault):
			c.reply(errorMessage(h.o.Now(), m.ID, protocol.ErrCodeRenewFailed, fault.Error()))
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

// ReplyError queues an error message for c from its transport: the
// transport's own refusals (rate limit) read like the hub's.
func (h *Hub) ReplyError(c *Client, code, text string) {
	c.reply(errorMessage(h.o.Now(), "", code, text))
}
