package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
)

// session is one signed-in session of the bench.
type signedIn struct {
	cookie string // "tokenlab_session=…", ready for a Cookie header
	exp    int64  // the token's exp
}

// signIn posts one sign-in and returns the session it started.
func signIn(client *http.Client, addr, username, password string, ttl int64) (signedIn, error) {
	body, _ := json.Marshal(map[string]any{"username": username, "password": password, "ttl": ttl})
	resp, err := client.Post("http://"+addr+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		return signedIn{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return signedIn{}, fmt.Errorf("sign-in: status %d: %s", resp.StatusCode, b)
	}
	var ans struct {
		ExpiresAt int64 `json:"expires_at"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return signedIn{}, err
	}
	for _, c := range resp.Cookies() {
		if c.Name == session.CookieName {
			return signedIn{cookie: c.Name + "=" + c.Value, exp: ans.ExpiresAt}, nil
		}
	}
	return signedIn{}, fmt.Errorf("sign-in: no %s cookie in the answer", session.CookieName)
}

// signInMany starts n sessions in open demo mode, users bench000000…,
// with the ttl ttl(i) returns, from 32 connections at once.
func signInMany(ctx context.Context, addr string, n int, ttl func(i int) int64) ([]signedIn, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	out := make([]signedIn, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				s, err := signIn(client, addr, fmt.Sprintf("bench%06d", i), "pw", ttl(i))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				out[i] = s
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// loadRound is one timed run's summary.
type loadRound struct {
	rps      float64
	p50, p99 time.Duration
	failed   int
	// serverCPU and loadCPU are the CPU time the server and the load
	// generator spent per answered request, when they were measured.
	serverCPU, loadCPU time.Duration
}

func summarize(l loadResult) loadRound {
	return loadRound{rps: l.rate(), p50: percentile(l.latencies, 50), p99: percentile(l.latencies, 99), failed: l.failed}
}

// cpuReading is the CPU time a server child and the bench had used when a
// round started.
type cpuReading struct {
	server             *child
	serverAt, loadAt   time.Duration
	serverErr, loadErr error
}

func startCPUReading(server *child) cpuReading {
	r := cpuReading{server: server}
	r.serverAt, r.serverErr = server.cpuTime()
	r.loadAt, r.loadErr = processCPU(os.Getpid())
	return r
}

// perRequest is the CPU time each side spent per request since the
// reading, zero where it could not be read.
func (r cpuReading) perRequest(requests int) (server, load time.Duration) {
	if requests == 0 {
		return 0, 0
	}
	if now, err := r.server.cpuTime(); err == nil && r.serverErr == nil {
		server = (now - r.serverAt) / time.Duration(requests)
	}
	if now, err := processCPU(os.Getpid()); err == nil && r.loadErr == nil {
		load = (now - r.loadAt) / time.Duration(requests)
	}
	return server, load
}

// medianRound takes the median of each statistic over rounds.
func medianRound(rs []loadRound) loadRound {
	var rps, p50, p99, serverCPU, loadCPU []float64
	failed := 0
	for _, r := range rs {
		rps = append(rps, r.rps)
		p50 = append(p50, float64(r.p50))
		p99 = append(p99, float64(r.p99))
		serverCPU = append(serverCPU, float64(r.serverCPU))
		loadCPU = append(loadCPU, float64(r.loadCPU))
		failed += r.failed
	}
	return loadRound{rps: median(rps), p50: time.Duration(median(p50)), p99: time.Duration(median(p99)), failed: failed,
		serverCPU: time.Duration(median(serverCPU)), loadCPU: time.Duration(median(loadCPU))}
}

// Figure 2's load: 64 connections, in rounds that take turns between the
// bare handler and tokenlab so that both see the same noise.
const (
	httpConns     = 64
	httpRounds    = 15
	roundLength   = time.Second
	settleTime    = 250 * time.Millisecond
	profileLength = 10 * time.Second // with make bench PROFILE=dir
	// rotatePool is the number of sessions the minting run cycles
	// through, and renewalCoalesce the coalescing window of figure 2's
	// server: a session comes back only after its window has passed, so
	// every request mints a token, as every renewal of a real session
	// (minutes apart) does. The default window, 1 s, would need more
	// sessions than the hub keeps (20,000) at these rates; the report
	// checks that the sessions did come back after it.
	rotatePool      = 16384
	renewalCoalesce = 200 * time.Millisecond
)

// benchRenewal measures figure 2: POST /token/refresh with a session
// cookie through tokenlab's whole stack, against a bare handler sending a
// body of the same size.
func (b *bench) benchRenewal(ctx context.Context) error {
	b.logf("figure 2: starting the server and signing in %d sessions", rotatePool+httpConns)
	// Every sign-in comes from one loopback address: lift the per-address
	// and per-user limits, which would otherwise answer 429 after 20.
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"},
		b.path("server-renewal.log"), "-coalesce", renewalCoalesce.String())
	if err != nil {
		return err
	}
	defer srv.stop()
	long := func(int) int64 { return 3600 }
	fixed, err := signInMany(ctx, srv.addr, httpConns, long)
	if err != nil {
		return err
	}
	pool, err := signInMany(ctx, srv.addr, rotatePool, long)
	if err != nil {
		return err
	}

	// The bare handler answers with a real renewal's body.
	c, err := dialHTTP(srv.addr)
	if err != nil {
		return err
	}
	status, body, err := c.do(postRequest(srv.addr, "/token/refresh", fixed[0].cookie, nil), nil)
	c.c.Close()
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("a first renewal failed: status %d, %v: %s", status, err, body)
	}
	bodyPath := b.path("renewal-body.json")
	if err := os.WriteFile(bodyPath, body, 0o600); err != nil {
		return err
	}
	bare, err := startChild(ctx, "bare", nil, b.path("bare.log"), "-body", bodyPath)
	if err != nil {
		return err
	}
	defer bare.stop()

	fixedReqs := make([][]byte, len(fixed))
	for i, s := range fixed {
		fixedReqs[i] = postRequest(srv.addr, "/token/refresh", s.cookie, nil)
	}
	poolReqs := make([][]byte, len(pool))
	for i, s := range pool {
		poolReqs[i] = postRequest(srv.addr, "/token/refresh", s.cookie, nil)
	}
	bareReq := postRequest(bare.addr, "/token/refresh", fixed[0].cookie, nil)
	var turn atomic.Int64
	runs := []struct {
		name   string
		server *child
		next   func(w int) []byte
		out    *[]loadRound
	}{
		{"bare handler", bare, func(int) []byte { return bareReq }, &b.fig2.bare},
		{"tokenlab, every request mints", srv, func(int) []byte { return poolReqs[int(turn.Add(1))%len(poolReqs)] }, &b.fig2.minting},
		{"tokenlab, 64 sessions (coalesced)", srv, func(w int) []byte { return fixedReqs[w] }, &b.fig2.coalesced},
	}
	for _, r := range runs { // warm-up: connections, pools and caches
		runLoad(ctx, r.server.addr, httpConns, 500*time.Millisecond, http.StatusOK, r.next)
	}
	// Each round starts with the next run (a Latin square), so that no run
	// always comes first or last: on a shared machine, where a run falls
	// in the round matters. Short rounds keep the runs compared in a round
	// close in time.
	for round := range httpRounds {
		for j := range runs {
			i := (round + j) % len(runs)
			r := runs[i]
			// A pause first, so that what the previous run left behind (a
			// garbage collection under way, connections closing) is not
			// charged to this one.
			select {
			case <-time.After(settleTime):
			case <-ctx.Done():
				return ctx.Err()
			}
			cpu := startCPUReading(r.server)
			res := runLoad(ctx, r.server.addr, httpConns, roundLength, http.StatusOK, r.next)
			s := summarize(res)
			s.serverCPU, s.loadCPU = cpu.perRequest(res.ok)
			if res.failed > 0 {
				b.logf("  %s: %d failed requests, first: %v", r.name, res.failed, res.firstError)
			}
			*r.out = append(*r.out, s)
			b.logf("  round %d %-36s %8.0f req/s  p50 %-10v p99 %-10v CPU per request: server %v, load %v", round+1, r.name, s.rps,
				s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.serverCPU.Round(100*time.Nanosecond), s.loadCPU.Round(100*time.Nanosecond))
		}
	}
	// Profiles come from runs of their own after the measured rounds, so
	// that the profiler's cost is in none of them.
	if b.profileDir != "" {
		for i, r := range runs {
			if r.server != srv {
				continue
			}
			profiled := make(chan error, 1)
			go func() {
				profiled <- r.server.saveProfile(filepath.Join(b.profileDir, fmt.Sprintf("fig2-run%d.cpu", i)), profileLength)
			}()
			runLoad(ctx, r.server.addr, httpConns, profileLength+time.Second, http.StatusOK, r.next)
			if err := <-profiled; err != nil {
				b.logf("  profile: %v", err)
			}
		}
	}
	b.fig2.flaskErr = b.benchFlask(ctx)
	b.fig2.bodyBytes = len(body)
	// The fastest round brought sessions back soonest.
	fastest := 0.0
	for _, r := range b.fig2.minting {
		fastest = max(fastest, r.rps)
	}
	if fastest > 0 {
		b.fig2.reuseEvery = time.Duration(float64(rotatePool) / fastest * float64(time.Second))
	}
	return ctx.Err()
}

// signInConns is figure 3's load: fewer connections than the per-user
// limit's burst (10), since sign-ins in flight hold an attempt until their
// password has been checked, and more would be answered 429.
const signInConns = 8

// benchSignIn measures figure 3: POST /token with a password checked
// against a bcrypt hash of the default cost.
func (b *bench) benchSignIn(ctx context.Context) error {
	const username, password = "bench", "correct horse battery staple"
	cost := bcrypt.DefaultCost
	usersPath := b.path("users.json")
	if _, err := users.Put(usersPath, username, password, []string{"video"}, cost); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	var checks []float64
	for range 5 {
		t0 := time.Now()
		bcrypt.CompareHashAndPassword(hash, []byte(password))
		checks = append(checks, float64(time.Since(t0)))
	}
	b.fig3.cost = cost
	b.fig3.oneCheck = time.Duration(median(checks))

	b.logf("figure 3: sign-in with a password (bcrypt cost %d, one check %v here)", cost, b.fig3.oneCheck.Round(time.Millisecond))
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_USERS_FILE=" + usersPath}, b.path("server-signin.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	req := postRequest(srv.addr, "/token", "", []byte(`{"username":"bench","password":"correct horse battery staple"}`))
	res := runLoad(ctx, srv.addr, signInConns, 5*time.Second, http.StatusOK, func(int) []byte { return req })
	if res.failed > 0 {
		b.logf("  %d failed sign-ins, first: %v", res.failed, res.firstError)
	}
	b.fig3.load = summarize(res)
	b.logf("  %.0f sign-ins/s  p50 %v  p99 %v", b.fig3.load.rps, b.fig3.load.p50.Round(time.Millisecond), b.fig3.load.p99.Round(time.Millisecond))
	return ctx.Err()
}

// saveProfile saves a CPU profile of the child taken over d.
func (c *child) saveProfile(path string, d time.Duration) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.debug, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func (b *bench) path(name string) string { return filepath.Join(b.dir, name) }
