package sdkconn_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/twilsock"
)

// waitGoroutines waits until at most want goroutines run, failing after
// within with what it saw.
func waitGoroutines(tb testing.TB, want int, within time.Duration, what string) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d goroutines after %v, want at most %d", what, n, within, want)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// TestIdleConnectionsHoldOneGoroutine: connections opened at once, then
// idle, keep their reader alone (no writer parked for the connection's
// lifetime: figure 11's memory); each still answers at once when spoken
// to, and every goroutine ends when the clients leave.
func TestIdleConnectionsHoldOneGoroutine(t *testing.T) {
	const conns = 50
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	base := runtime.NumGoroutine()

	clients := make([]*client, conns)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range conns {
		c := dial(t, url)
		clients[i] = c
		tok := syncToken(t, m, fmt.Sprintf("idle%02d", i), time.Hour)
		wg.Go(func() {
			<-start
			c.init(tok)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	// One reader per connection, and nothing else of theirs; the slack is
	// for a goroutine of another test still winding down.
	waitGoroutines(t, base+conns+2, 5*time.Second, fmt.Sprintf("%d idle connections", conns))

	start = make(chan struct{})
	for i, c := range clients {
		wg.Go(func() {
			<-start
			id := fmt.Sprintf("TMping%d", i)
			c.send(twilsock.Header{Method: twilsock.MethodPing, ID: id}, nil)
			wantStatus(t, c.next(5*time.Second), twilsock.MethodReply, twilsock.StatusOK, 0)
		})
	}
	close(start)
	wg.Wait()

	for _, c := range clients {
		c.ws.Close()
	}
	waitGoroutines(t, base+2, 5*time.Second, "after the clients left")
}
