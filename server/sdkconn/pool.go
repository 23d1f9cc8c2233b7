package sdkconn

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// goingAway is a connection the pool can end when the server shuts down.
type goingAway interface {
	// goAway stops the connection's timers and closes it with 1001.
	goAway()
}

// pooled is a connection the pool runs: its socket, its own reader, and
// what it leaves behind.
type pooled interface {
	goingAway
	sock() *socket
	// readPump reads and answers messages until the connection ends.
	readPump()
	// ended stops the connection's timers and returns the identity it was
	// admitted for ("" when none).
	ended() string
	// announceEnd tells the directory the connection is over. It comes
	// after the connection's slots are given back, so that a client that
	// hears of the end can connect again at once.
	announceEnd()
}

// serve answers a request for an SDK socket. A request that is not an
// upgrade gets 400 and usage (what the path is for, for a person who
// opened it); past maxConns, 503. Otherwise it upgrades the request and
// runs the connection newConn makes, its reader and its socket, until it
// ends.
func (p *pool) serve(w http.ResponseWriter, r *http.Request, product, usage string, newConn func(*websocket.Conn) pooled) {
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, http.StatusBadRequest, "not_websocket", usage)
		return
	}
	if !p.enter() {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "too_many_connections",
			fmt.Sprintf("too many %s connections to this server (limit %d): retry later", product, p.maxConns))
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		p.leave()
		return // Upgrade has answered the client
	}
	c := newConn(ws)
	s := c.sock()
	p.writers.Add(1)
	s.start(p.writers.Done)
	if !p.track(r, c) {
		s.shut(websocket.CloseGoingAway, "the server is shutting down")
	}
	go func() {
		c.readPump()
		close(s.readerDone)
		identity := c.ended()
		s.shut(websocket.CloseNormalClosure, "")
		p.untrack(c)
		p.release(identity)
		p.leave()
		c.announceEnd()
	}()
}

// pool holds what every SDK endpoint needs of its connections: the
// server-wide and per-identity bounds, and the list that Shutdown closes
// (http.Server does not track hijacked connections). Each endpoint has its
// own pool, so one product's clients cannot use up another's.
type pool struct {
	maxConns, maxPerIdentity int
	total                    atomic.Int64

	mu          sync.Mutex // guards the fields below
	perIdentity map[string]int
	conns       map[goingAway]struct{}
	closed      bool
	// servers are the http.Servers this pool asked to be told of their
	// shutdown.
	servers map[*http.Server]bool
	// writers counts the connections whose socket is not over yet: Drain
	// waits for them to have sent their close.
	writers sync.WaitGroup
	// ended are the tokens the lab ended, refused from then on.
	ended endedTokens
}

// served lists, for each http.Server, the pools whose connections it
// accepted, so that Drain reaches them.
var served = struct {
	sync.Mutex
	pools map[*http.Server][]*pool
}{pools: make(map[*http.Server][]*pool)}

// Drain closes the SDK connections srv accepted (1001 going away) and
// waits until each has sent its close, or ctx ends. http.Server.Shutdown
// does neither for hijacked connections: it starts the close in a
// goroutine and returns, and a process that exits then cuts the sockets
// (the SDKs see 1006, and Voice's Device reports a connection error)
// instead of closing them.
func Drain(ctx context.Context, srv *http.Server) {
	served.Lock()
	pools := served.pools[srv]
	delete(served.pools, srv)
	served.Unlock()
	for _, p := range pools {
		p.shutdown()
		done := make(chan struct{})
		go func() { p.writers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

func newPool(maxConns, maxPerIdentity int) *pool {
	return &pool{maxConns: maxConns, maxPerIdentity: maxPerIdentity, perIdentity: make(map[string]int),
		conns: make(map[goingAway]struct{}), servers: make(map[*http.Server]bool)}
}

// enter counts a new connection, refusing it past maxConns; a connection
// that entered calls leave once.
func (p *pool) enter() bool {
	if p.total.Add(1) > int64(p.maxConns) {
		p.total.Add(-1)
		return false
	}
	return true
}

func (p *pool) leave() { p.total.Add(-1) }

// track records a connection so that Shutdown reaches it, and asks the
// request's http.Server to call Shutdown when it shuts down. It reports
// false when the pool is already shut down.
func (p *pool) track(r *http.Request, c goingAway) bool {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	p.mu.Lock()
	defer p.mu.Unlock()
	if srv != nil && !p.servers[srv] {
		p.servers[srv] = true
		srv.RegisterOnShutdown(p.shutdown)
		served.Lock()
		served.pools[srv] = append(served.pools[srv], p)
		served.Unlock()
	}
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *pool) untrack(c goingAway) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// shutdown closes every connection with 1001 going away: the SDKs
// reconnect by themselves, to a restarted server too.
func (p *pool) shutdown() {
	p.mu.Lock()
	p.closed = true
	conns := make([]goingAway, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.goAway()
	}
}

// admit counts a connection for identity, refusing it past the limit.
func (p *pool) admit(identity string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.perIdentity[identity] >= p.maxPerIdentity {
		return false
	}
	p.perIdentity[identity]++
	return true
}

// release forgets a connection admitted for identity ("" when none was).
func (p *pool) release(identity string) {
	if identity == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.perIdentity[identity]--; p.perIdentity[identity] <= 0 {
		delete(p.perIdentity, identity)
	}
}
