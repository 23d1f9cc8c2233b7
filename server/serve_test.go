package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// otherAddress is an address of this machine that is not loopback, or "".
func otherAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

func TestServeListensOnLoopbackUnlessTold(t *testing.T) {
	srv := startServer(t, nil, nil)
	addr, logs := srv.addr, srv.logs
	host, port, _ := net.SplitHostPort(addr)
	if host != "127.0.0.1" {
		t.Fatalf("listening on %s, want 127.0.0.1 by default", addr)
	}
	if strings.Contains(logs.String(), "listening beyond loopback") {
		t.Errorf("a loopback server warns that it is exposed:\n%s", logs)
	}
	if resp, err := http.Get("http://localhost:" + port + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("http://localhost:%s/healthz: %v", port, err)
	} else {
		resp.Body.Close()
	}
	if other := otherAddress(); other != "" {
		// The machine's own non-loopback address: on-host, but the address
		// other machines would use.
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(other, port), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("the default server answers on %s, a non-loopback address", other)
		}
	} else {
		t.Log("no non-loopback address on this machine: only the listening address was checked")
	}

	srv = startServer(t, map[string]string{config.EnvHost: "0.0.0.0"}, nil)
	addr, logs = srv.addr, srv.logs
	if host, _, _ := net.SplitHostPort(addr); host != "0.0.0.0" && host != "::" {
		t.Errorf("TOKENLAB_HOST=0.0.0.0 listens on %s", addr)
	}
	if !strings.Contains(logs.String(), "listening beyond loopback") || !strings.Contains(logs.String(), "url=http://localhost:") {
		t.Errorf("an exposed server should say so and still name its localhost URL:\n%s", logs)
	}
}

// TestServeLimitsConnections holds every connection slot with idle TCP
// connections: a request then waits until one is released.
func TestServeLimitsConnections(t *testing.T) {
	lim := defaultLimits()
	lim.maxConns = 2
	addr := startServer(t, nil, &lim).addr
	var held []net.Conn
	for range lim.maxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Give the server time to accept both: otherwise the probe could take
	// a slot that a held connection has not claimed yet.
	time.Sleep(100 * time.Millisecond)
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a request was served beyond the connection limit of %d", lim.maxConns)
	}
	held[0].Close()
	client.Timeout = 10 * time.Second
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("after a slot was freed: %v", err)
	}
	resp.Body.Close()
}

// TestServeTimeouts: a client that sends half a header, half a body, or
// nothing on a kept-alive connection is cut off; a WebSocket, which the
// hub keeps alive with its own deadlines, outlives every one of those
// time-outs.
func TestServeTimeouts(t *testing.T) {
	lim := defaultLimits()
	lim.readHeaderTimeout = 200 * time.Millisecond
	lim.readTimeout = 400 * time.Millisecond
	// Longer than readTimeout, as by default: the answer to a body that
	// timed out still has time to be written.
	lim.writeTimeout = 800 * time.Millisecond
	lim.idleTimeout = 200 * time.Millisecond
	addr := startServer(t, nil, &lim).addr

	closedWithin := func(t *testing.T, c net.Conn, limit time.Duration) string {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(limit))
		b, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept the connection open for %v", limit)
		}
		return string(b)
	}
	t.Run("half a header", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
		closedWithin(t, c, 5*time.Second)
	})
	t.Run("half a body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":")
		answer := closedWithin(t, c, 5*time.Second)
		if !strings.HasPrefix(answer, "HTTP/1.1 408 ") || !strings.Contains(answer, `"code":"request_timeout"`) {
			t.Errorf("answer to a body that stopped coming:\n%s", answer)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		closedWithin(t, c, 5*time.Second)
	})
	t.Run("header too large", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("a", 2*api.MaxHeaderBytes))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a %d-byte header: status %d, want 431", 2*api.MaxHeaderBytes, resp.StatusCode)
		}
	})
	t.Run("a WebSocket outlives them", func(t *testing.T) {
		resp, err := http.Post("http://"+addr+"/token", "application/json", strings.NewReader(`{"username":"a","password":"b"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie string
		for _, c := range resp.Cookies() {
			cookie = c.Name + "=" + c.Value
		}
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Cookie": {cookie}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil { // hello
			t.Fatal(err)
		}
		past := 2 * max(lim.readTimeout, lim.writeTimeout, lim.idleTimeout)
		time.Sleep(past)
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","id":"late"}`))
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %v, past every HTTP time-out: %v", past, err)
		}
		if m, err := protocol.Decode(data); err != nil || m.Type != protocol.TypePong || m.ID != "late" {
			t.Errorf("answer %s (%v), want the pong", data, err)
		}
	})
}
