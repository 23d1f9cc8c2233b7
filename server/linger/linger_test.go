package linger

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// fakeConn records how it is closed; its reads return what input holds,
// then the peer's end of input once eof is closed.
type fakeConn struct {
	net.Conn
	input   chan []byte
	closedW chan struct{}
	closed  chan struct{}
}

func newFake() *fakeConn {
	return &fakeConn{input: make(chan []byte, 4), closedW: make(chan struct{}), closed: make(chan struct{})}
}

func (f *fakeConn) Read(p []byte) (int, error) {
	b, ok := <-f.input
	if !ok {
		return 0, io.EOF
	}
	return copy(p, b), nil
}
func (f *fakeConn) CloseWrite() error               { close(f.closedW); return nil }
func (f *fakeConn) Close() error                    { close(f.closed); return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error { return nil }

type fakeListener struct {
	net.Listener
	c net.Conn
}

func (l fakeListener) Accept() (net.Conn, error) { return l.c, nil }

func accept(t *testing.T, f *fakeConn) (*Listener, net.Conn) {
	t.Helper()
	l := NewListener(fakeListener{c: f}, Options{Time: time.Minute, Timeout: time.Minute, MaxBytes: 1 << 20})
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestCloseAtOnce: idle, hijacked and never-active connections, and ones
// whose peer has closed, close at once without half-closing.
func TestCloseAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		states  []http.ConnState
		peerEOF bool
	}{
		{"new", []http.ConnState{http.StateNew}, false},
		{"idle", []http.ConnState{http.StateNew, http.StateActive, http.StateIdle}, false},
		{"hijacked", []http.ConnState{http.StateNew, http.StateActive, http.StateHijacked}, false},
		{"active, peer gone", []http.ConnState{http.StateNew, http.StateActive}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			l, c := accept(t, f)
			for _, s := range tc.states {
				l.ConnState(c, s)
			}
			if tc.peerEOF {
				close(f.input)
				if _, err := c.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("read: %v", err)
				}
			}
			c.Close()
			if !isClosed(f.closed) || isClosed(f.closedW) {
				t.Errorf("closed %v, half-closed %v: want closed at once", isClosed(f.closed), isClosed(f.closedW))
			}
		})
	}
}

// TestLingerWhileActive: a connection closed in a request is half-closed,
// its input read until the peer's end, and only then closed.
func TestLingerWhileActive(t *testing.T) {
	f := newFake()
	l, c := accept(t, f)
	l.ConnState(c, http.StateNew)
	l.ConnState(c, http.StateActive)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	<-f.closedW
	if isClosed(f.closed) {
		t.Fatal("closed before the peer's input ended")
	}
	f.input <- []byte("the rest of a body")
	close(f.input)
	select {
	case <-f.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("not closed after the peer's input ended")
	}
	if err := c.Close(); err == nil {
		t.Error("a second Close succeeded")
	}
}
