package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Figures 11 and 12: 10,000 idle twilsock connections, as Twilio's Sync
// and Conversations SDKs hold them, then all their tokens expiring within
// 10 s; beside the same number of idle /ws connections in the same run.
const (
	tsConns = 10_000
	// tsWarnLead is the server's configured lead: the tokens live long
	// enough (ttl/3 > 5 s) for renew.Lead to keep it.
	tsWarnLead = 5 * time.Second
	// tsTTL is the shortest token's lifetime; token i lives i%tsSpread
	// seconds longer, so the 10,000 expire within tsSpread seconds. The
	// connections must be open and measured before the first warning,
	// due tsTTL − tsWarnLead after minting.
	tsTTL    = 30 * time.Second
	tsSpread = 10
	// tsDialers open the baseline's /ws connections in parallel.
	tsDialers = 64
	// tsJitterSeed seeds the twilsock server's jitter (seededJitter).
	tsJitterSeed = 17
)

type figTwilsock struct {
	// Figure 11.
	connected                         int
	connectTook                       time.Duration
	rssBefore, rssAfter               int64
	goroutinesBefore, goroutinesAfter int
	// The /ws baseline, its own server in the same run.
	wsConnected             int
	wsRSSBefore, wsRSSAfter int64
	wsGoroutines            int // added per connection × connections
	// Figure 12.
	expSpread   time.Duration
	setupMargin time.Duration
	wave        wave
	// early counts warnings that came before their due time: the bench
	// replays the server's seeded jitter to know each one, and an early
	// warning means the replay went wrong.
	early       int
	missed      int // tokens that expired without a warning
	updated     int // updates after a warning, answered 200
	updateError string
}

// tsClient is one bench connection. Its reader acknowledges every server
// frame with a reply, as the SDKs do, and answers the warning with an
// update carrying renewal, as an app's tokenAboutToExpire handler does.
type tsClient struct {
	conn    *websocket.Conn
	exp     time.Time
	due     time.Time // exp − lead − this connection's jitter
	renewal string

	warnedAt    time.Time
	expired     bool // closed with 410 before any warning
	updated     bool
	updateError string
}

const tsUpdateID = "bench-update"

// read runs until the connection closes; done is called once, when the
// client's token was warned about and updated, or expired, or the
// connection ended.
func (c *tsClient) read(done func()) {
	once := sync.OnceFunc(done)
	defer once()
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		f, err := twilsock.Decode(data)
		if err != nil {
			c.updateError = err.Error()
			once()
			continue
		}
		h := f.Header
		switch h.Method {
		case twilsock.MethodClientUpdate:
			if h.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire || !c.warnedAt.IsZero() {
				continue
			}
			c.warnedAt = now
			c.send(twilsock.Reply(h.ID, twilsock.StatusOK, "OK"))
			c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: tsUpdateID, Token: c.renewal})
		case twilsock.MethodReply:
			if h.ID != tsUpdateID {
				continue
			}
			if h.Status != nil && h.Status.Code == twilsock.StatusOK {
				c.updated = true
			} else if h.Status != nil {
				c.updateError = fmt.Sprintf("update answered %d %s: %s", h.Status.Code, h.Status.Status, h.Status.Description)
			}
			once()
		case twilsock.MethodClose:
			c.send(twilsock.Reply(h.ID, twilsock.StatusOK, "OK"))
			if h.Status != nil && h.Status.Code == twilsock.StatusTokenExpired && c.warnedAt.IsZero() {
				c.expired = true
			}
			once()
		}
	}
}

func (c *tsClient) send(h twilsock.Header) {
	if err := sendFrame(c.conn, h); err != nil && c.updateError == "" {
		c.updateError = err.Error()
	}
}

// dialTwilsock opens one connection, sends init and then a ping, and
// waits for both replies. The server handles a connection's frames one at
// a time, so the ping's reply also says that init was handled to its end,
// token scheduled included.
func dialTwilsock(ctx context.Context, d *websocket.Dialer, addr, tok string) (*websocket.Conn, error) {
	conn, _, err := d.DialContext(ctx, "ws://"+addr+"/v3/wsconnect", nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, h := range []twilsock.Header{
		{Method: twilsock.MethodInit, ID: "bench-init", Token: tok, Capabilities: []string{"client_update"}},
		{Method: twilsock.MethodPing, ID: "bench-ping"},
	} {
		if err = sendFrame(conn, h); err != nil {
			conn.Close()
			return nil, err
		}
	}
	for range 2 {
		_, data, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, err
		}
		f, err := twilsock.Decode(data)
		switch {
		case err != nil:
		case f.Header.Method != twilsock.MethodReply || f.Header.Status == nil:
			err = fmt.Errorf("%s answered with %s", f.Header.ID, f.Header.Method)
		case f.Header.Status.Code != twilsock.StatusOK:
			err = fmt.Errorf("%s refused: %d %s", f.Header.ID, f.Header.Status.Code, f.Header.Status.Description)
		}
		if err != nil {
			conn.Close()
			return nil, err
		}
	}
	conn.SetReadDeadline(time.Time{})
	return conn, nil
}

func sendFrame(conn *websocket.Conn, h twilsock.Header) error {
	b, err := twilsock.Encode(h, nil)
	if err != nil {
		return err
	}
	return conn.WriteMessage(websocket.BinaryMessage, b)
}

// benchTwilsock measures figures 11 and 12.
func (b *bench) benchTwilsock(ctx context.Context) error {
	f := &b.figTS
	// The bench holds one descriptor per connection, and so does the
	// server: both raise their soft limit to the hard one.
	if limit, err := raiseFileLimit(); err != nil {
		return err
	} else if need := uint64(tsConns + 1000); limit < need {
		return fmt.Errorf("the open-file limit is %d, figures 11 and 12 need %d: raise the hard limit (ulimit -Hn)", limit, need)
	}
	if err := b.idleWSBaseline(ctx); err != nil {
		return fmt.Errorf("the /ws baseline: %w", err)
	}
	b.logf("figure 11/12: %d twilsock connections, one identity each", tsConns)
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_WARN_LEAD=" + tsWarnLead.String()}, b.path("server-twilsock.log"), fmt.Sprintf("-jitter-seed=%d", tsJitterSeed))
	if err != nil {
		return err
	}
	defer srv.stop()

	// The tokens are minted here, with the demo account the child signs
	// with: a twilsock client brings a token, it does not sign in.
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	minter, err := mint.New(cfg.Twilio, nil)
	if err != nil {
		return err
	}
	grants := token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}
	clients := make([]*tsClient, tsConns)
	tokens := make([]string, tsConns)
	var minExp, maxExp time.Time
	for i := range tsConns {
		identity := fmt.Sprintf("twilsock%05d", i)
		m, err := minter.Mint(identity, grants, tsTTL+time.Duration(i%tsSpread)*time.Second)
		if err != nil {
			return err
		}
		renewal, err := minter.Mint(identity, grants, time.Hour)
		if err != nil {
			return err
		}
		tokens[i] = m.Token
		clients[i] = &tsClient{exp: m.Claims.ExpiresAt(), renewal: renewal.Token}
		if minExp.IsZero() || m.Claims.ExpiresAt().Before(minExp) {
			minExp = m.Claims.ExpiresAt()
		}
		if m.Claims.ExpiresAt().After(maxExp) {
			maxExp = m.Claims.ExpiresAt()
		}
	}
	f.expSpread = maxExp.Sub(minExp)

	if f.rssBefore, f.goroutinesBefore, err = srv.settle(); err != nil {
		return err
	}
	var finished atomic.Int64
	allDone := make(chan struct{})
	finish := func() {
		if finished.Add(1) == tsConns {
			close(allDone)
		}
	}
	// One connection at a time, in order: the server draws each
	// connection's jitter from the seeded sequence when it accepts its
	// init, and the bench replays that sequence to know each due time.
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	replay := seededJitter(tsJitterSeed)
	lead := renew.Lead(tsTTL, tsWarnLead) // every token lives at least tsTTL: the lead is not scaled down
	var dialErr error
	var readers sync.WaitGroup
	start := time.Now()
	for i, c := range clients {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		conn, err := dialTwilsock(ctx, &dialer, srv.addr, tokens[i])
		if err != nil {
			dialErr = err
			finish()
			continue
		}
		c.conn = conn
		c.due = c.exp.Add(-lead - replay(renew.MaxJitter(lead)))
		readers.Go(func() { c.read(finish) })
	}
	f.connectTook = time.Since(start)
	closeAll := sync.OnceFunc(func() {
		for _, c := range clients {
			if c.conn != nil {
				c.conn.Close()
			}
		}
		readers.Wait()
	})
	defer closeAll()
	for _, c := range clients {
		if c.conn != nil {
			f.connected++
		}
	}
	if dialErr != nil {
		b.logf("  a connection failed: %v", dialErr)
	}
	if f.rssAfter, f.goroutinesAfter, err = srv.settle(); err != nil {
		return err
	}
	if b.profileDir != "" {
		// What the idle connections hold: the heap by allocation site, and
		// the runtime's MemStats (stacks included) at its end.
		if heap, err := srv.debugGet("/debug/pprof/heap?gc=1"); err != nil {
			b.logf("  heap profile: %v", err)
		} else if err := os.WriteFile(filepath.Join(b.profileDir, "fig11-idle-heap.pprof"), []byte(heap), 0o644); err != nil {
			b.logf("  heap profile: %v", err)
		}
	}
	if !slices.Contains(b.want, "12") {
		return nil
	}
	firstDue := minExp.Add(-lead - renew.MaxJitter(lead))
	f.setupMargin = time.Until(firstDue)
	b.logf("  connected %d in %v: RSS %d → %d KiB, goroutines %d → %d; first warning due in %v",
		f.connected, f.connectTook.Round(time.Millisecond), f.rssBefore>>10, f.rssAfter>>10,
		f.goroutinesBefore, f.goroutinesAfter, f.setupMargin.Round(time.Millisecond))
	if f.setupMargin <= 0 {
		return errors.New("the connections took longer than the tokens' time to their warning: the lateness cannot be measured")
	}

	// The profile, when asked for, covers the warnings.
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if b.profileDir == "" {
			return
		}
		time.Sleep(time.Until(firstDue))
		if err := srv.saveProfile(filepath.Join(b.profileDir, "fig12-warnings.cpu"), f.expSpread+time.Second); err != nil {
			b.logf("  profile: %v", err)
		}
	}()
	defer func() { <-profiled }()
	select {
	case <-allDone:
	case <-time.After(time.Until(maxExp.Add(3 * time.Second))):
		b.logf("  deadline reached before every client was warned and updated")
	case <-ctx.Done():
		return ctx.Err()
	}
	closeAll() // readers have returned: their fields can be read

	var late []time.Duration
	var dues []time.Time
	for _, c := range clients {
		if c.conn == nil {
			continue
		}
		switch {
		case c.expired:
			f.missed++
		case c.warnedAt.IsZero():
			f.missed++ // neither warned nor expired by the deadline
		default:
			l := c.warnedAt.Sub(c.due)
			if l < -time.Millisecond { // the clock is the same: early means the due time is wrong
				f.early++
			}
			late = append(late, l)
			dues = append(dues, c.due)
		}
		if c.updated {
			f.updated++
		}
		if c.updateError != "" && f.updateError == "" {
			f.updateError = c.updateError
		}
	}
	if len(late) == 0 {
		return errors.New("no warning arrived")
	}
	w := &f.wave
	w.n = len(late)
	w.first, w.last = dues[0], dues[0]
	for _, d := range dues {
		if d.Before(w.first) {
			w.first = d
		}
		if d.After(w.last) {
			w.last = d
		}
	}
	ticks, err := srv.canaryTicks(w.first.Add(-time.Second), w.last.Add(time.Second))
	if err != nil {
		return err
	}
	var stalled []time.Duration
	for _, d := range dues {
		stalled = append(stalled, stalledFor(ticks, d))
	}
	w.p50, w.p99, w.max = percentile(late, 50), percentile(late, 99), percentile(late, 100)
	w.canaryP50, w.canaryP99, w.canaryMax = percentile(stalled, 50), percentile(stalled, 99), percentile(stalled, 100)
	b.logf("  %d warnings due over %v: lateness p50 %v p99 %v max %v; canary p50 %v p99 %v max %v; missed %d, early %d, updates answered %d",
		w.n, w.last.Sub(w.first).Round(time.Millisecond), w.p50, w.p99, w.max, w.canaryP50, w.canaryP99, w.canaryMax, f.missed, f.early, f.updated)
	return nil
}

// idleWSBaseline holds tsConns idle /ws connections, one session each, on
// a server of their own, and reads the memory they add: figure 4's
// measure, taken again beside figure 11 so the two compare within one run.
func (b *bench) idleWSBaseline(ctx context.Context) error {
	f := &b.figTS
	b.logf("figure 11 baseline: %d idle /ws connections", tsConns)
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"}, b.path("server-ws-baseline.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	sessions, err := signInMany(ctx, srv.addr, tsConns, func(int) int64 { return 3600 })
	if err != nil {
		return err
	}
	var gBefore, gAfter int
	if f.wsRSSBefore, gBefore, err = srv.settle(); err != nil {
		return err
	}
	conns := make([]*websocket.Conn, len(sessions))
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	var next atomic.Int64
	var dialErr atomic.Value
	var wg sync.WaitGroup
	for range tsDialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sessions) || ctx.Err() != nil {
					return
				}
				c, _, err := dialer.DialContext(ctx, "ws://"+srv.addr+"/ws", http.Header{"Cookie": {sessions[i].cookie}})
				if err != nil {
					dialErr.CompareAndSwap(nil, err)
					continue
				}
				conns[i] = c
				// Drain what the server sends (the first token, pings'
				// answers are gorilla's): an idle page reads its socket.
				go func() {
					for {
						if _, _, err := c.NextReader(); err != nil {
							return
						}
					}
				}()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for _, c := range conns {
		if c != nil {
			f.wsConnected++
		}
	}
	if f.wsConnected < len(sessions) {
		err, _ := dialErr.Load().(error)
		return fmt.Errorf("%d of %d /ws connections: %v", f.wsConnected, len(sessions), err)
	}
	if f.wsRSSAfter, gAfter, err = srv.settle(); err != nil {
		return err
	}
	f.wsGoroutines = gAfter - gBefore
	b.logf("  RSS %d → %d KiB, goroutines %d → %d", f.wsRSSBefore>>10, f.wsRSSAfter>>10, gBefore, gAfter)
	return nil
}

func (f figTwilsock) perConn() (twilsock, ws int64) {
	return (f.rssAfter - f.rssBefore) / int64(max(f.connected, 1)), (f.wsRSSAfter - f.wsRSSBefore) / int64(max(f.wsConnected, 1))
}
