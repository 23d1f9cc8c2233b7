package sdkconn

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
)

// goingAway is a connection the pool can end when the server shuts down.
type goingAway interface {
	// goAway stops the connection's timers and closes it with 1001.
	goAway()
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
	// writers counts the connections whose writer still runs: Drain waits
	// for them to have sent their close.
	writers sync.WaitGroup
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
