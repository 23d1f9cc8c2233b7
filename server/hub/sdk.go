package hub

import (
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// The page shows the Twilio SDK connections (server/sdkconn) whose token
// is for its session's identity: the SDKs' sockets belong to no session,
// only to the identity their token names, as for the lab's faults.

// sdkReserve is how much of a tab's queue "sdk" messages leave free for
// the session's own notices (expiring, expired, token, revoked), which a
// tab must not be dropped for missing.
const sdkReserve = 4

// SDKChanged pushes m, an "sdk" message about a Twilio SDK connection of
// identity, to every tab of the sessions of that identity.
func (h *Hub) SDKChanged(identity string, m protocol.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	same := h.byIdentity[identity]
	if len(same) == 0 {
		return
	}
	m.ServerTimeMS = h.o.Now().UnixMilli()
	var msg []byte
	for e := range same {
		for c := range e.clients {
			if msg == nil {
				msg = protocol.Encode(m)
			}
			c.offer(msg)
		}
	}
}

// sendSDK queues m for c alone, if it is still attached.
func (h *Hub) sendSDK(c *Client, m protocol.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := c.e.clients[c]; !ok {
		return
	}
	m.ServerTimeMS = h.o.Now().UnixMilli()
	c.offer(protocol.Encode(m))
}

// offer queues an informational message unless the queue is nearly full:
// then the message is skipped, and the client kept. Callers hold the hub's
// mutex, which every sender holds, so the queue only shrinks meanwhile.
func (c *Client) offer(msg []byte) bool {
	if len(c.send) >= cap(c.send)-sdkReserve {
		return false
	}
	c.send <- msg
	return true
}
