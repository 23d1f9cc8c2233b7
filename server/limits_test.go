package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/linger"
)

// getOfSize is a GET /healthz whose request line and headers, the blank
// line included, are exactly n bytes long.
func getOfSize(addr string, n int) string {
	head := "GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\nX-Padding: "
	const tail = "\r\n\r\n"
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// writeThenRead sends all of req on a fresh connection before reading
// anything, as a simple client does, and returns the answer's status. An
// error means the answer was lost (a reset) or never came.
func writeThenRead(tb testing.TB, addr string, req []byte) (int, error) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	// A small send buffer, as on a real network, where the request is
	// still on its way when the answer is sent, rather than all in
	// loopback's large buffers at once.
	c.(*net.TCPConn).SetWriteBuffer(16 << 10)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		return 0, fmt.Errorf("writing the request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, fmt.Errorf("reading the answer: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestServeHeaderLimitIsTheDocumentedOne: a request whose headers are
// exactly api.MaxHeaderBytes long is served, one byte more is 431 (net/http
// alone adds 4 KiB of slack to http.Server.MaxHeaderBytes).
func TestServeHeaderLimitIsTheDocumentedOne(t *testing.T) {
	addr := startServer(t, nil, nil).addr
	for _, tc := range []struct {
		size, status int
	}{
		{api.MaxHeaderBytes - 1, http.StatusOK},
		{api.MaxHeaderBytes, http.StatusOK},
		{api.MaxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
		{api.MaxHeaderBytes + 4096, http.StatusRequestHeaderFieldsTooLarge},
	} {
		status, err := writeThenRead(t, addr, []byte(getOfSize(addr, tc.size)))
		if err != nil || status != tc.status {
			t.Errorf("headers of %d bytes: status %d (%v), want %d", tc.size, status, err, tc.status)
		}
	}
}

// TestServeLingersSoAnswersAreRead: clients that write a whole over-limit
// body or header before reading, several at once, read the 413 or 431 that
// explains it instead of a connection reset, and the server still serves.
func TestServeLingersSoAnswersAreRead(t *testing.T) {
	addr := startServer(t, nil, nil).addr
	body := bytes.Repeat([]byte("a"), 4<<20)
	bigBody := append([]byte(fmt.Sprintf("POST /token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))), body...)
	bigHeader := []byte(getOfSize(addr, 256<<10))
	attacks := []struct {
		name   string
		req    []byte
		status int
	}{
		{"4 MB body", bigBody, http.StatusRequestEntityTooLarge},
		{"256 KB header", bigHeader, http.StatusRequestHeaderFieldsTooLarge},
	}
	const perAttack = 3
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, perAttack*len(attacks))
	for _, a := range attacks {
		for range perAttack {
			wg.Go(func() {
				<-start
				status, err := writeThenRead(t, addr, a.req)
				if err != nil || status != a.status {
					errs <- fmt.Errorf("%s: status %d (%v), want %d", a.name, status, err, a.status)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if status, err := writeThenRead(t, addr, []byte(getOfSize(addr, 100))); err != nil || status != http.StatusOK {
		t.Errorf("GET /healthz after the attack: %d (%v)", status, err)
	}
}

// TestServeLingeringIsBounded: a client that keeps sending after its
// answer, trickles, or goes quiet without closing is cut off within the
// lingering bounds (bytes, total time, time between reads), and its
// connection slot is given back.
func TestServeLingeringIsBounded(t *testing.T) {
	lim := defaultLimits()
	lim.maxConns = 1
	lim.linger = linger.Options{Time: time.Second, Timeout: 300 * time.Millisecond, MaxBytes: 1 << 20}
	addr := startServer(t, nil, &lim).addr
	overLimit := getOfSize(addr, 2*api.MaxHeaderBytes)

	// answered sends the over-limit header and reads the 431.
	answered := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, overLimit); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("answer %v (%v), want 431", resp, err)
		}
		resp.Body.Close()
		return c
	}
	// cutWithin writes with next until the server cuts the connection,
	// which must happen within bound.
	cutWithin := func(t *testing.T, c net.Conn, bound time.Duration, next func() []byte) {
		begin := time.Now()
		for {
			if _, err := c.Write(next()); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the server still reads after %v", time.Since(begin))
				}
				break
			}
		}
		if d := time.Since(begin); d > bound {
			t.Errorf("cut after %v, bound %v", d, bound)
		}
	}
	slotFree := func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("the connection slot was not given back: %v", err)
		}
		resp.Body.Close()
		client.CloseIdleConnections()
	}

	t.Run("a flood", func(t *testing.T) {
		c := answered(t)
		chunk := make([]byte, 64<<10)
		// MaxBytes on loopback takes milliseconds; the total time bounds it.
		cutWithin(t, c, lim.linger.Time+2*time.Second, func() []byte { return chunk })
		slotFree(t)
	})
	t.Run("a trickle", func(t *testing.T) {
		c := answered(t)
		tick := time.NewTicker(lim.linger.Timeout / 3)
		defer tick.Stop()
		// Each byte comes within Timeout: only the total time ends it.
		cutWithin(t, c, lim.linger.Time+2*time.Second, func() []byte { <-tick.C; return []byte("x") })
		slotFree(t)
	})
	t.Run("quiet, never closing", func(t *testing.T) {
		answered(t) // kept open until the test ends
		slotFree(t) // the only slot: free once the server gives up
	})
}
