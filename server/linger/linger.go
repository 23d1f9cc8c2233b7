// Package linger closes a server's connections the way nginx's lingering
// close does (lingering_close, lingering_time, lingering_timeout): a
// connection closed in the middle of a request, after an error answer such
// as 413 or 431, is half-closed and its unread input read and discarded,
// within bounds of bytes and time, before it is closed.
//
// Closing a TCP socket with unread input makes the kernel send a reset,
// and a reset can destroy the answer before the client reads it: a client
// that writes a whole 4 MB body before reading sees "connection reset"
// instead of the 413 that explains it. Go's net/http only waits half a
// second (and cannot half-close a wrapped connection), so the reset still
// comes while the client is writing.
//
// Only a connection that was active (a request read in part or in full)
// lingers: idle keep-alive connections, hijacked ones (WebSockets, whose
// owner may close them to release a stuck writer) and connections whose
// peer has already closed its side close at once.
package linger

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options bound the lingering of one connection.
type Options struct {
	// Time bounds the whole lingering (nginx's lingering_time).
	Time time.Duration
	// Timeout bounds the wait for each read (nginx's lingering_timeout): a
	// peer that stops sending is not waited for.
	Timeout time.Duration
	// MaxBytes bounds the input read and discarded.
	MaxBytes int64
}

// Default lingers long enough for a client on a fast link to finish
// sending a body or header many times the server's limits, and not longer:
// a client that is still sending after that gets the reset.
var Default = Options{Time: 5 * time.Second, Timeout: time.Second, MaxBytes: 16 << 20}

// Listener hands out connections that linger when closed while active.
// Its ConnState method must be the http.Server's ConnState hook (or be
// called by it): the server's view of each connection decides whether it
// lingers.
type Listener struct {
	net.Listener
	o Options
}

// NewListener wraps l.
func NewListener(l net.Listener, o Options) *Listener {
	return &Listener{Listener: l, o: o}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, o: l.o}, nil
}

// ConnState records whether the server is in the middle of a request on c,
// for an http.Server's ConnState hook.
func (l *Listener) ConnState(c net.Conn, s http.ConnState) {
	// Under TLS the server sees the *tls.Conn wrapped around ours.
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*conn); ok && s != http.StateClosed {
		lc.active.Store(s == http.StateActive)
	}
}

// closeWriter is a connection that can be half-closed (*net.TCPConn).
type closeWriter interface{ CloseWrite() error }

type conn struct {
	net.Conn
	o        Options
	active   atomic.Bool // the server was in a request when it last said
	peerDone atomic.Bool // a read saw the peer's end of input
	// halfClosed is set once the write side is closed.
	halfClosed atomic.Bool
	once       sync.Once
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.peerDone.Store(true)
	}
	return n, err
}

// CloseWrite half-closes the connection, as net/http does after some error
// answers, when the wrapped connection can.
func (c *conn) CloseWrite() error {
	cw, ok := c.Conn.(closeWriter)
	if !ok {
		return errors.ErrUnsupported
	}
	err := cw.CloseWrite()
	if err == nil {
		c.halfClosed.Store(true)
	}
	return err
}

// Close closes the connection: at once, or, when the server closes it
// while active, after lingering in the background. It never blocks, since
// http.Server.Shutdown closes idle connections one after another.
func (c *conn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		if !c.active.Load() || c.peerDone.Load() || !c.halfClosed.Load() && c.CloseWrite() != nil {
			err = c.Conn.Close()
			return
		}
		err = nil
		go c.linger()
	})
	return err
}

// linger reads and discards the peer's input until it ends or a bound is
// reached, then closes the connection. The answer is already sent and the
// write side closed, so the peer reads the answer and then its end of
// input; a well-behaved one closes in turn.
func (c *conn) linger() {
	defer c.Conn.Close()
	end := time.Now().Add(c.o.Time)
	buf := make([]byte, 32<<10)
	for left := c.o.MaxBytes; left > 0; {
		deadline := time.Now().Add(c.o.Timeout)
		if deadline.After(end) {
			deadline = end
		}
		if c.Conn.SetReadDeadline(deadline) != nil {
			return
		}
		n, err := c.Conn.Read(buf[:min(int64(len(buf)), left)])
		left -= int64(n)
		if err != nil {
			return
		}
	}
}
