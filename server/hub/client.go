package hub

import "sync"

// Client is one attached connection as the hub sees it: a bounded queue of
// encoded messages and a done signal. The transport (server/api/wsconn.go) drains the
// queue; the hub only ever queues without blocking.
type Client struct {
	e    *entry
	send chan []byte
	done chan struct{}

	// mu guards how the connection ends, which its writer reads without
	// the hub's mutex.
	mu     sync.Mutex
	closed bool
	code   int    // close code to send, 0 for none (aborted)
	reason string // close reason
	drain  bool   // write what is queued before closing
	kill   func() // closes the network connection at once
	killed bool
}

func newClient(e *entry, buffer int) *Client {
	return &Client{e: e, send: make(chan []byte, buffer), done: make(chan struct{})}
}

// SessionID is the id of the client's session.
func (c *Client) SessionID() string { return c.e.sess.ID }

// Send is the queue of encoded messages for the connection to write.
func (c *Client) Send() <-chan []byte { return c.send }

// Done is closed when the hub is finished with the connection: revoked,
// shut down, dropped or detached. CloseCode then says how to close it.
func (c *Client) Done() <-chan struct{} { return c.done }

// CloseCode is the close frame to send once Done is closed (code 0: none,
// the connection was aborted) and whether queued messages go out first.
func (c *Client) CloseCode() (code int, reason string, drain bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason, c.drain
}

// trySend queues msg unless the queue is full, in which case the client is
// dropped: a hub never waits for one slow reader. Callers hold the hub's
// mutex.
func (c *Client) trySend(msg []byte) {
	select {
	case c.send <- msg:
	default:
		c.e.h.dropLocked(c)
	}
}

// reply queues an answer from the connection's own reader (which does not
// hold the hub's mutex).
func (c *Client) reply(msg []byte) {
	c.e.h.mu.Lock()
	defer c.e.h.mu.Unlock()
	c.trySend(msg)
}

// shut closes Done once, recording how the connection should close.
func (c *Client) shut(code int, reason string, drain bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed, c.code, c.reason, c.drain = true, code, reason, drain
	close(c.done)
}

// abort shuts the client and closes its network connection at once, so a
// writer stuck on a peer that stopped reading is released now rather than
// at its write deadline.
func (c *Client) abort(code int, reason string) {
	c.shut(code, reason, false)
	c.mu.Lock()
	kill := c.kill
	c.killed = true
	c.mu.Unlock()
	if kill != nil {
		kill()
	}
}

// Close asks the transport to close the connection with code and reason,
// after writing what is queued.
func (c *Client) Close(code int, reason string) { c.shut(code, reason, true) }

// Abort ends the connection at once: its transport failed to write.
func (c *Client) Abort() { c.abort(0, "") }

// Aborted reports whether the connection was cut rather than closed:
// nothing more can be written to it.
func (c *Client) Aborted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

// SetKill installs the function that closes the network connection,
// running it at once if the client was aborted already.
func (c *Client) SetKill(kill func()) {
	c.mu.Lock()
	c.kill = kill
	killed := c.killed
	c.mu.Unlock()
	if killed {
		kill()
	}
}
