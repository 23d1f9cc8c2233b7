package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// Figures 4 and 5: many idle sockets, then all their tokens expiring in
// one short window, several times over.
const (
	wsSessions = 10_000
	// wsWarnLead is the server's configured lead (TOKENLAB_WARN_LEAD). The
	// tokens live long enough (ttl/3 > 5 s) for renew.Lead to keep it, so
	// each warning is due between exp−5.5 s and exp−5 s (jitter ≤ lead/10).
	wsWarnLead = 5 * time.Second
	// expWindow: the sessions sign in over this many seconds, an equal
	// share each second, all with the same ttl, so that their tokens
	// expire within expWindow+1 seconds of each other, and so do the
	// renewed tokens of every later wave.
	expWindow = 9
	// wsTTL is every token's lifetime. The sign-ins (expWindow seconds)
	// and the connections must be done before the first warning, due
	// wsTTL − 5.5 s after the first sign-in.
	wsTTL = 30
	// waves is how many times every token is warned about and renewed. A
	// renewed token lives as long as the first (the session's ttl), so
	// the renewals of one wave make the next, again within about 10 s.
	waves = 3
)

// warning is one "expiring" a client received.
type warning struct {
	due        time.Time     // exp − lead, lead as the message says (jitter included)
	late       time.Duration // receipt − due
	serverLate time.Duration // the message's server_time_ms − due: the hub's share
}

// wsClient is one bench connection. Its reader records what the server
// said and when, and answers each "expiring" with a "renew" as the page
// does.
type wsClient struct {
	conn *websocket.Conn

	warnings    []warning
	warnedJTI   string
	missed      int // tokens that expired without a warning
	renewed     int // renewals answered with a token
	renewFailed string
}

const renewID = "bench-renew-"

// read runs until the connection closes. finished is called once, when
// the client has seen its waves renewed (or a renewal failed).
func (c *wsClient) read(finished func()) {
	once := sync.OnceFunc(finished)
	defer once()
	asked := 0
	renew := func() {
		asked++
		msg, _ := json.Marshal(protocol.Message{Type: protocol.TypeRenew, ID: renewID + strconv.Itoa(asked)})
		if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			c.renewFailed = err.Error()
			once()
		}
	}
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var m protocol.Message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case protocol.TypeExpiring:
			if m.JTI == c.warnedJTI || len(c.warnings) == waves {
				continue
			}
			c.warnedJTI = m.JTI
			due := time.UnixMilli(m.Exp*1000 - m.LeadMS)
			c.warnings = append(c.warnings, warning{due: due, late: now.Sub(due), serverLate: time.UnixMilli(m.ServerTimeMS).Sub(due)})
			renew()
		case protocol.TypeExpired:
			if m.JTI != c.warnedJTI && len(c.warnings) < waves {
				c.missed++
				c.warnedJTI = m.JTI
				renew()
			}
		case protocol.TypeToken:
			if strings.HasPrefix(m.ID, renewID) {
				c.renewed++
				if c.renewed >= waves {
					once()
				}
			}
		case protocol.TypeError:
			if strings.HasPrefix(m.ID, renewID) {
				c.renewFailed = m.Code + ": " + m.Text
				once()
			}
		}
	}
}

// wave is figure 5's result for one round of warnings.
type wave struct {
	n                    int
	first, last          time.Time // due times
	p50, p99, max        time.Duration
	serverP50, serverP99 time.Duration
	// canary… is what a perfect timer in the server process would have
	// shown for the same due times (see canary).
	canaryP50, canaryP99, canaryMax time.Duration
}

// benchSockets measures figures 4 and 5.
func (b *bench) benchSockets(ctx context.Context) error {
	b.logf("figure 4/5: %d sessions, each with one WebSocket", wsSessions)
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_WARN_LEAD=" + wsWarnLead.String(),
		// Its 10,000 sessions sign in from one address at once: the
		// sign-in limits count attempts in flight, so lift them.
		"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"}, b.path("server-sockets.log"))
	if err != nil {
		return err
	}
	defer srv.stop()

	start := time.Now()
	sessions := make([]signedIn, 0, wsSessions)
	for k := range expWindow {
		time.Sleep(time.Until(start.Add(time.Duration(k) * time.Second)))
		n := wsSessions/expWindow + min(1, max(0, wsSessions%expWindow-k)) // the remainder goes to the first slots
		slot, err := signInMany(ctx, srv.addr, n, func(int) int64 { return wsTTL })
		if err != nil {
			return err
		}
		sessions = append(sessions, slot...)
	}
	minExp, maxExp := sessions[0].exp, sessions[0].exp
	for _, s := range sessions {
		minExp, maxExp = min(minExp, s.exp), max(maxExp, s.exp)
	}
	f := &b.fig45
	f.signInTook = time.Since(start)
	f.expSpread = time.Duration(maxExp-minExp) * time.Second

	if f.rssBefore, f.goroutinesBefore, err = srv.settle(); err != nil {
		return err
	}

	clients := make([]*wsClient, len(sessions))
	var finished atomic.Int64
	allDone := make(chan struct{})
	var doneOnce sync.Once
	finish := func() {
		if finished.Add(1) == int64(len(clients)) {
			doneOnce.Do(func() { close(allDone) })
		}
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	var next atomic.Int64
	var dialErr atomic.Value
	var wg, readers sync.WaitGroup
	connectStart := time.Now()
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sessions) || ctx.Err() != nil {
					return
				}
				conn, resp, err := dialer.DialContext(ctx, "ws://"+srv.addr+"/ws", http.Header{"Cookie": {sessions[i].cookie}})
				if err != nil {
					if resp != nil {
						body, _ := io.ReadAll(resp.Body)
						err = fmt.Errorf("%w: %s", err, body)
					}
					dialErr.CompareAndSwap(nil, err)
					finish()
					continue
				}
				c := &wsClient{conn: conn}
				clients[i] = c
				readers.Go(func() { c.read(finish) })
			}
		})
	}
	wg.Wait()
	f.connectTook = time.Since(connectStart)
	closeAll := sync.OnceFunc(func() {
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
		readers.Wait()
	})
	defer closeAll()
	if err, _ := dialErr.Load().(error); err != nil {
		b.logf("  a connection failed: %v", err)
	}
	for _, c := range clients {
		if c != nil {
			f.connected++
		}
	}
	b.logf("  signed in in %v, connected %d in %v", f.signInTook.Round(time.Millisecond), f.connected, f.connectTook.Round(time.Millisecond))
	if f.rssAfter, f.goroutinesAfter, err = srv.settle(); err != nil {
		return err
	}
	firstWarning := time.Unix(minExp, 0).Add(-wsWarnLead - wsWarnLead/10)
	f.setupMargin = time.Until(firstWarning)
	b.logf("  RSS %d → %d KiB, goroutines %d → %d; first warning due in %v",
		f.rssBefore>>10, f.rssAfter>>10, f.goroutinesBefore, f.goroutinesAfter, f.setupMargin.Round(time.Millisecond))

	// The profile, when asked for, covers the first wave.
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if b.profileDir == "" {
			return
		}
		time.Sleep(time.Until(firstWarning))
		if err := srv.saveProfile(filepath.Join(b.profileDir, "fig5-warnings.cpu"), f.expSpread+time.Second); err != nil {
			b.logf("  profile: %v", err)
		}
	}()
	defer func() { <-profiled }()
	// Each wave comes about a token lifetime after the one before.
	deadline := time.Unix(maxExp, 0).Add(waves*wsTTL*time.Second + 5*time.Second)
	select {
	case <-allDone:
	case <-time.After(time.Until(deadline)):
		b.logf("  deadline reached before every client saw %d renewals", waves)
	case <-ctx.Done():
		return ctx.Err()
	}
	time.Sleep(100 * time.Millisecond) // let readers record their last message
	closeAll()                         // readers have returned: their fields can be read
	for _, c := range clients {
		if c == nil {
			continue
		}
		f.missed += c.missed
		f.renewed += c.renewed
		f.warnings += len(c.warnings)
		if c.renewFailed != "" && f.renewError == "" {
			f.renewError = c.renewFailed
		}
	}
	for k := range waves {
		var w wave
		var late, serverLate []time.Duration
		for _, c := range clients {
			if c == nil || len(c.warnings) <= k {
				continue
			}
			x := c.warnings[k]
			late, serverLate = append(late, x.late), append(serverLate, x.serverLate)
			if w.first.IsZero() || x.due.Before(w.first) {
				w.first = x.due
			}
			if x.due.After(w.last) {
				w.last = x.due
			}
		}
		if len(late) == 0 {
			break
		}
		w.n = len(late)
		w.p50, w.p99, w.max = percentile(late, 50), percentile(late, 99), percentile(late, 100)
		w.serverP50, w.serverP99 = percentile(serverLate, 50), percentile(serverLate, 99)
		ticks, err := srv.canaryTicks(w.first.Add(-time.Second), w.last.Add(time.Second))
		if err != nil {
			return err
		}
		var stalled []time.Duration
		for _, c := range clients {
			if c != nil && len(c.warnings) > k {
				stalled = append(stalled, stalledFor(ticks, c.warnings[k].due))
			}
		}
		w.canaryP50, w.canaryP99, w.canaryMax = percentile(stalled, 50), percentile(stalled, 99), percentile(stalled, 100)
		f.waves = append(f.waves, w)
		b.logf("  wave %d: %d warnings due over %v, lateness p50 %v p99 %v max %v (server-stamped p99 %v); canary p50 %v p99 %v max %v",
			k+1, w.n, w.last.Sub(w.first).Round(time.Millisecond), w.p50, w.p99, w.max, w.serverP99, w.canaryP50, w.canaryP99, w.canaryMax)
	}
	if b.profileDir != "" {
		b.dumpLateness(clients)
	}
	b.logf("  warnings %d, missed %d, renewals answered %d", f.warnings, f.missed, f.renewed)
	return nil
}

// settle collects the child's garbage, returns free memory to the OS and
// reads its RSS and goroutine count, so that two readings differ by live
// memory only.
func (c *child) settle() (rss int64, goroutines int, err error) {
	time.Sleep(500 * time.Millisecond)
	if _, err := c.debugGet("/freeos"); err != nil {
		return 0, 0, err
	}
	if rss, err = c.rss(); err != nil {
		return 0, 0, err
	}
	s, err := c.debugGet("/goroutines")
	if err != nil {
		return 0, 0, err
	}
	goroutines, err = strconv.Atoi(strings.TrimSpace(s))
	return rss, goroutines, err
}

func (c *child) debugGet(path string) (string, error) {
	resp, err := http.Get("http://" + c.debug + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// dumpLateness writes each warning's due time and lateness, for a look at
// where late warnings cluster.
func (b *bench) dumpLateness(clients []*wsClient) {
	var sb strings.Builder
	for _, c := range clients {
		if c == nil {
			continue
		}
		for k, w := range c.warnings {
			fmt.Fprintf(&sb, "%d %d %d %d\n", k+1, w.due.UnixMilli(), w.late.Microseconds(), w.serverLate.Milliseconds())
		}
	}
	os.WriteFile(filepath.Join(b.profileDir, "fig5-lateness.txt"), []byte(sb.String()), 0o644)
}
