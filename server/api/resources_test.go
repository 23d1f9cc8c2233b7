package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// waitUntil polls cond every 10 ms for up to limit.
func waitUntil(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blackhole is a TCP proxy that can stop forwarding in both directions
// while keeping both connections open: the server's peer goes silent
// exactly as when a laptop sleeps or a NAT forgets the flow, with no FIN
// and no RST.
type blackhole struct {
	ln       net.Listener
	mu       sync.Mutex
	dropping bool
	upstream []net.Conn // the proxy's connections to the server
}

func newBlackhole(tb testing.TB, target string) *blackhole {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &blackhole{ln: ln}
	tb.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.upstream {
			c.Close()
		}
		b.mu.Unlock()
	})
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			b.mu.Lock()
			b.upstream = append(b.upstream, up)
			b.mu.Unlock()
			tb.Cleanup(func() { down.Close() })
			go b.pipe(up, down)
			go b.pipe(down, up)
		}
	}()
	return b
}

// pipe copies until the blackhole starts dropping, then swallows
// everything without closing either side.
func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		b.mu.Lock()
		drop := b.dropping
		b.mu.Unlock()
		if !drop {
			dst.Write(buf[:n])
		}
	}
}

func (b *blackhole) drop() {
	b.mu.Lock()
	b.dropping = true
	b.mu.Unlock()
}

// TestHalfOpenConnectionIsDropped: a peer that goes silent without closing
// is dropped by the server once PongWait passes with no pong, and its
// slot is freed.
func TestHalfOpenConnectionIsDropped(t *testing.T) {
	t.Parallel()
	// Pings go out every 1.8 s, leaving a pong 200 ms to come back: ample
	// on loopback even on a busy machine.
	const wait = 2 * time.Second
	l := newLive(t, nil, func(o *hub.Options) { o.PongWait = wait })
	_, ck := l.signIn(t, 600)
	proxy := newBlackhole(t, strings.TrimPrefix(l.srv.URL, "http://"))
	// The page would be served through the proxy too: its origin is the
	// proxy's address.
	h := http.Header{"Cookie": {ck.Name + "=" + ck.Value}, "Origin": {"http://" + proxy.ln.Addr().String()}}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+proxy.ln.Addr().String()+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(t, c, protocol.TypeHello, 5*time.Second)
	// While the link works, the client answers the server's pings (gorilla
	// does so while reading) and stays connected past several PongWaits.
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	time.Sleep(wait + wait/2)
	if n := l.hub.Connections(); n != 1 {
		t.Fatalf("a live client answering pings was dropped: %d connections", n)
	}
	proxy.drop()
	start := time.Now()
	waitUntil(t, 10*time.Second, "the server still holds the silent connection", func() bool { return l.hub.Connections() == 0 })
	t.Logf("the silent peer was dropped %v after the link died (PongWait %v)", time.Since(start).Round(10*time.Millisecond), wait)
}

// TestClientVanishesMidWrite: clients that close (with a reset) while the
// server is writing a large asset or pushing socket messages cost the
// server nothing lasting: it keeps serving, the hub forgets the sockets,
// and the goroutines return.
func TestClientVanishesMidWrite(t *testing.T) {
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	goroutines := runtime.NumGoroutine()
	addr := strings.TrimPrefix(l.srv.URL, "http://")

	// The page's program, uncompressed (the server inflates it for a
	// client that accepts no encoding): megabytes to write.
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\nGET /gen/tokenlab.wasm HTTP/1.1\r\nHost: localhost\r\n\r\n")
		io.ReadFull(c, make([]byte, 100))
		c.(*net.TCPConn).SetLinger(0) // close with a reset, mid-answer
		c.Close()
	}

	// Sockets that stop reading and then vanish while renewals are pushed.
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	var socks []*websocket.Conn
	for range hub.DefaultMaxConnsPerSession {
		c, _, err := l.dial(ck, l.srv.URL, dialer)
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, c)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			l.refreshHTTP(t, ck)
		}
	})
	time.Sleep(20 * time.Millisecond)
	for _, c := range socks {
		c.NetConn().(*net.TCPConn).SetLinger(0)
		c.NetConn().Close()
	}
	wg.Wait()

	resp, err := http.Get(l.srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after the vanishing clients: %v", err)
	}
	resp.Body.Close()
	waitUntil(t, 10*time.Second, "the hub still counts vanished sockets", func() bool { return l.hub.Connections() == 0 })
	http.DefaultClient.CloseIdleConnections()
	waitUntil(t, 10*time.Second, "goroutines of vanished clients linger", func() bool {
		return runtime.NumGoroutine() <= goroutines+5
	})
	// The session still works for a new tab.
	expect(t, l.mustDial(t, ck), protocol.TypeHello, 5*time.Second)
}

// TestBurstReturnsToBaseline opens 500 sessions, each with a socket, on
// loopback, closes them, and checks that the hub's counts return to zero
// and the heap to near where it started: nothing is kept per session or
// connection once they are gone.
func TestBurstReturnsToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500 connections")
	}
	const n = 500
	const ttl = 2 // seconds: idle sessions are forgotten when their token expires
	l := newLive(t, nil, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	signIn := func() string {
		resp, err := client.Post(l.srv.URL+"/token", "application/json",
			strings.NewReader(fmt.Sprintf(`{"username":"burst","password":"pw","ttl":%d}`, ttl)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if c := sessionCookie(t, resp.Cookies()); c != nil {
			return c.Name + "=" + c.Value
		}
		t.Fatalf("sign-in: %d", resp.StatusCode)
		return ""
	}
	// Warm up every code path once, so that the baseline includes what is
	// allocated once per process (pools, the page, type caches).
	warm := signIn()
	wc, _, err := websocket.DefaultDialer.Dial(l.wsURL(), http.Header{"Cookie": {warm}, "Origin": {l.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, wc, protocol.TypeHello, 5*time.Second)
	wc.Close()
	waitUntil(t, 10*time.Second, "the warm-up session lingers", func() bool {
		return l.hub.Connections() == 0 && len(l.hub.Sessions()) == 0
	})
	before, _ := memInUse()

	conns := make([]*websocket.Conn, 0, n)
	for range n {
		ck := signIn()
		c, _, err := websocket.DefaultDialer.Dial(l.wsURL(), http.Header{"Cookie": {ck}, "Origin": {l.srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		expect(t, c, protocol.TypeHello, 5*time.Second)
	}
	if got, sessions := l.hub.Connections(), len(l.hub.Sessions()); got != n || sessions != n {
		t.Fatalf("during the burst: %d connections, %d sessions; want %d each", got, sessions, n)
	}
	peak, _ := memInUse()
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitUntil(t, 10*time.Second, "connections linger after their clients closed", func() bool { return l.hub.Connections() == 0 })
	waitUntil(t, 3*ttl*time.Second+5*time.Second, "sessions linger after their tabs closed and tokens expired", func() bool {
		return len(l.hub.Sessions()) == 0
	})
	client.CloseIdleConnections()
	var after uint64
	// Freed memory is returned by the next collections; give the runtime a
	// few rounds rather than one snapshot.
	const slack = 2 << 20
	for range 20 {
		after, _ = memInUse()
		if after <= before+slack {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("heap in use: %d KiB before, %d KiB with %d sessions and sockets, %d KiB after", before>>10, peak>>10, n, after>>10)
	// The burst's own size is measured from the lower of the two quiet
	// points: memory other tests left behind can still be in the baseline
	// and be freed during the burst.
	if quiet := min(before, after); peak < quiet+4*slack {
		t.Errorf("the burst grew the heap by only %d KiB: the measurement cannot tell a leak from noise", (peak-quiet)>>10)
	}
	if after > before+slack {
		t.Errorf("after the burst the heap is %d KiB over its baseline (allowed %d KiB): something is kept per session or connection",
			(after-before)>>10, slack>>10)
	}
}
