package sdkconn

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// TestSocketHeartbeat: a socket with a heartbeat sends it as a text
// message every keepalive, which Voice's SDK needs (it ignores pings and
// reconnects after 15 s of silence); queued messages still go out.
func TestSocketHeartbeat(t *testing.T) {
	const keepalive = 20 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := newSocket(ws, slog.New(slog.DiscardHandler), websocket.TextMessage, []byte(voicesignal.Heartbeat), keepalive)
		over := make(chan struct{})
		s.start(func() { close(over) })
		s.queueBytes([]byte(`{"type":"ready"}`))
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					close(s.readerDone)
					s.shut(websocket.CloseNormalClosure, "")
					return
				}
			}
		}()
		<-over
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 4 {
		kind, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if kind != websocket.TextMessage {
			t.Fatalf("message of WebSocket type %d, want text", kind)
		}
		got = append(got, string(data))
	}
	if got[0] != `{"type":"ready"}` || got[1] != "\n" || got[2] != "\n" || got[3] != "\n" {
		t.Errorf("the socket sent %q, want the queued message, then heartbeats", got)
	}
}

// serveSocket serves one socket per connection, keepalive as given, and
// runs use on it; the handler stays until the socket is over. It returns
// the WebSocket URL.
func serveSocket(tb testing.TB, keepalive time.Duration, use func(s *socket, over <-chan struct{})) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := newSocket(ws, slog.New(slog.DiscardHandler), websocket.BinaryMessage, nil, keepalive)
		over := make(chan struct{})
		s.start(func() { close(over) })
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					close(s.readerDone)
					s.shut(websocket.CloseNormalClosure, "")
					return
				}
			}
		}()
		use(s, over)
		<-over
	}))
	tb.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestSocketPings: without a heartbeat, the keepalive is a WebSocket
// ping, again and again, on a socket with nothing else to write.
func TestSocketPings(t *testing.T) {
	url := serveSocket(t, 10*time.Millisecond, func(*socket, <-chan struct{}) {})
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pings := make(chan struct{}, 16)
	c.SetPingHandler(func(string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return nil
	})
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	deadline := time.After(5 * time.Second)
	for n := 0; n < 3; n++ {
		select {
		case <-pings:
		case <-deadline:
			t.Fatalf("%d pings within 5 s, want 3", n)
		}
	}
}

// TestSocketConcurrentQueue: messages queued from many goroutines at
// once (the reader's answers, the lifecycle's timer, the lab) all go out,
// each goroutine's in its order, then the close that followed them.
func TestSocketConcurrentQueue(t *testing.T) {
	const senders, each = 8, sendBuffer / 8
	url := serveSocket(t, time.Hour, func(s *socket, _ <-chan struct{}) {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range senders {
			wg.Go(func() {
				<-start
				for k := range each {
					s.queueBytes([]byte(fmt.Sprintf("%d %d", g, k)))
				}
			})
		}
		close(start)
		wg.Wait()
		s.shut(websocket.CloseNormalClosure, "done")
	})
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	next := make([]int, senders)
	for got := 0; ; got++ {
		_, data, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("after %d messages: %v, want the close 1000", got, err)
			}
			if got != senders*each {
				t.Fatalf("%d messages before the close, want %d", got, senders*each)
			}
			return
		}
		var g, k int
		if _, err := fmt.Sscan(string(data), &g, &k); err != nil || g < 0 || g >= senders {
			t.Fatalf("message %q", data)
		}
		if k != next[g] {
			t.Fatalf("sender %d's message %d came when %d was due", g, k, next[g])
		}
		next[g]++
	}
}

// TestSocketDropsSlowReader: a client that stops reading fills its queue;
// queueing never waits for it, and the socket drops it.
func TestSocketDropsSlowReader(t *testing.T) {
	big := make([]byte, 256<<10)
	queued := make(chan time.Duration, 1)
	dropped := make(chan struct{})
	url := serveSocket(t, time.Hour, func(s *socket, over <-chan struct{}) {
		var slowest time.Duration
		// Enough to fill the kernel's buffers and then the queue.
		for range 400 {
			t0 := time.Now()
			s.queueBytes(big)
			slowest = max(slowest, time.Since(t0))
		}
		queued <- slowest
		<-over
		close(dropped)
	})
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // never read: the client stopped reading
	select {
	case slowest := <-queued:
		if slowest > time.Second {
			t.Errorf("queueing a message took %v: it waited for the client", slowest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("queueing 400 messages did not return within 10 s: it waits for a client that does not read")
	}
	select {
	case <-dropped:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket of a client that stopped reading was not dropped within 5 s")
	}
}
