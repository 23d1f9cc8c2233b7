package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/lowpriority"
	"github.com/tokenlab/tokenlab/server/users"
)

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// guarded is a handler over the users file with sign-in limits, a clock
// the test moves, a log it reads, and a count of password comparisons.
type guarded struct {
	h        http.Handler
	clock    *settable
	logs     *lockedBuffer
	mu       sync.Mutex
	compares int
}

func newGuarded(tb testing.TB, addr, user config.Limit) *guarded {
	tb.Helper()
	g := &guarded{clock: &settable{t: t0}, logs: &lockedBuffer{}}
	// Each Authenticate is exactly one bcrypt comparison, known user or
	// not (server/users tests count them); here the calls are counted.
	f := countingAuth{File: mustUsersFile(tb), count: func() {
		g.mu.Lock()
		g.compares++
		g.mu.Unlock()
	}}
	g.h = newStack(tb, fixture{auth: f, now: g.clock.now, log: slog.New(slog.NewTextHandler(g.logs, nil)),
		config: func(c *config.Config) { c.SignInLimitAddr, c.SignInLimitUser = addr, user }}).handler
	return g
}

func (g *guarded) comparisons() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.compares
}

type countingAuth struct {
	*users.File
	count func()
}

func (c countingAuth) Authenticate(ctx context.Context, user, pw string) (users.User, error) {
	c.count()
	return c.File.Authenticate(ctx, user, pw)
}

// signInFrom posts a sign-in from the client address addr.
func (g *guarded) signInFrom(tb testing.TB, addr, user, password string) *httpResult {
	tb.Helper()
	r := jsonReq("POST", "/token", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	r.RemoteAddr = addr
	rec := do(tb, g.h, r)
	return &httpResult{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

type httpResult struct {
	status int
	header http.Header
	body   string
}

func (r *httpResult) code() string {
	var e errorBody
	if err := jsonUnmarshal(r.body, &e); err != nil {
		return ""
	}
	return e.Error.Code
}

func TestSignInLimitPerAddress(t *testing.T) {
	g := newGuarded(t, config.Limit{N: 3, Per: time.Minute}, config.Limit{N: 100, Per: time.Minute})
	const mallory = "198.51.100.7:4000"
	for i := range 3 {
		if r := g.signInFrom(t, mallory, fmt.Sprint("guess", i), "pw"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.status)
		}
	}
	before := g.comparisons()
	r := g.signInFrom(t, mallory, "susan", "secret") // even the right password
	if r.status != http.StatusTooManyRequests || r.code() != api.CodeRateLimited || r.header.Get("Retry-After") != "20" {
		t.Fatalf("4th attempt: %d %s Retry-After %q; want 429 rate_limited, Retry-After 20", r.status, r.body, r.header.Get("Retry-After"))
	}
	if !strings.Contains(r.body, "from this address") {
		t.Errorf("message %s does not say which limit", r.body)
	}
	if g.comparisons() != before {
		t.Error("a refused attempt still checked the password")
	}
	// Another address is not affected, and neither is mallory's own port
	// change: the key is the address.
	if r := g.signInFrom(t, "203.0.113.9:1", "susan", "secret"); r.status != http.StatusOK {
		t.Errorf("another address: %d %s", r.status, r.body)
	}
	if r := g.signInFrom(t, "198.51.100.7:4001", "susan", "secret"); r.status != http.StatusTooManyRequests {
		t.Errorf("the same address from another port: %d", r.status)
	}
	// IPv6 clients are keyed by their /64.
	for i := range 3 {
		g.signInFrom(t, fmt.Sprintf("[2001:db8:aa:bb::%x]:1", i+1), "x", "pw")
	}
	if r := g.signInFrom(t, "[2001:db8:aa:bb:ffff::1]:1", "susan", "secret"); r.status != http.StatusTooManyRequests {
		t.Errorf("a new address in the same IPv6 /64: %d, want 429", r.status)
	}
	g.clock.add(20 * time.Second)
	if r := g.signInFrom(t, mallory, "susan", "secret"); r.status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", r.status, r.body)
	}
}

// The per-username limit holds however many addresses an attacker uses,
// and an unknown username is limited exactly like a real one.
func TestSignInLimitPerUsername(t *testing.T) {
	g := newGuarded(t, config.Limit{N: 100, Per: time.Minute}, config.Limit{N: 5, Per: 5 * time.Minute})
	for _, user := range []string{"susan", "ghost"} {
		for i := range 5 {
			if r := g.signInFrom(t, fmt.Sprintf("192.0.2.%d:1", i+1), user, "guess"); r.status != http.StatusUnauthorized {
				t.Fatalf("%s failure %d: %d", user, i+1, r.status)
			}
		}
		r := g.signInFrom(t, "192.0.2.99:1", user, "guess")
		if r.status != http.StatusTooManyRequests || r.code() != api.CodeRateLimited || r.header.Get("Retry-After") != "60" {
			t.Errorf("%s 6th failure from a 6th address: %d %s Retry-After %q", user, r.status, r.body, r.header.Get("Retry-After"))
		}
		if !strings.Contains(r.body, "for this username") {
			t.Errorf("message %s does not say which limit", r.body)
		}
	}
	// The answers for a real and an unknown user are the same.
	real := g.signInFrom(t, "192.0.2.100:1", "susan", "x")
	ghost := g.signInFrom(t, "192.0.2.100:1", "ghost", "x")
	if real.status != ghost.status || real.body != ghost.body || real.header.Get("Retry-After") != ghost.header.Get("Retry-After") {
		t.Errorf("a limited real user and a limited unknown one differ:\n%d %s\n%d %s", real.status, real.body, ghost.status, ghost.body)
	}
	if r := g.signInFrom(t, "192.0.2.100:1", "root", "toor"); r.status != http.StatusOK {
		t.Errorf("another user from the same address: %d %s", r.status, r.body)
	}
}

// Successful sign-ins never count: a busy office behind one address, or a
// load test, is not slowed.
func TestSignInLimitCountsOnlyFailures(t *testing.T) {
	g := newGuarded(t, config.Limit{N: 2, Per: time.Hour}, config.Limit{N: 2, Per: time.Hour})
	for i := range 50 {
		if r := g.signInFrom(t, "192.0.2.1:1", "susan", "secret"); r.status != http.StatusOK {
			t.Fatalf("sign-in %d: %d %s", i+1, r.status, r.body)
		}
	}
	// Requests refused before the password check (missing or malformed
	// fields) do not count either.
	for range 10 {
		g.signInFrom(t, "192.0.2.1:1", "susan", "")
		g.signInFrom(t, "192.0.2.1:1", "susan\x00", "x")
	}
	if r := g.signInFrom(t, "192.0.2.1:1", "susan", "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("first failure: %d", r.status)
	}
}

// Failures are logged with the username and the client, never the
// password; refusals are logged too.
func TestSignInFailuresLoggedWithoutPassword(t *testing.T) {
	g := newGuarded(t, config.Limit{N: 2, Per: time.Minute}, config.Limit{N: 100, Per: time.Minute})
	const password = "correct-horse-7f3a9-battery"
	for range 3 {
		g.signInFrom(t, "198.51.100.7:1", "susan", password)
	}
	g.signInFrom(t, "198.51.100.8:1", "ghost", password+"2")
	logs := g.logs.String()
	for _, want := range []string{
		`msg="sign-in failed: wrong username or password" username=susan client=198.51.100.7`,
		`msg="sign-in failed: wrong username or password" username=ghost client=198.51.100.8`,
		`msg="sign-in refused: too many failures from this address" username=susan client=198.51.100.7 retry_after_s=30`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, password[:12]) || strings.Contains(logs, "battery") {
		t.Errorf("the log holds the password:\n%s", logs)
	}
}

// The configuration's defaults turn the limits on.
func TestSignInLimitedByDefault(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0),
		config: func(c *config.Config) {
			c.SignInLimitAddr, c.SignInLimitUser = cfg.SignInLimitAddr, cfg.SignInLimitUser
		}}).handler
	limited := 0
	for i := range cfg.SignInLimitAddr.N + 1 {
		r := jsonReq("POST", "/token", fmt.Sprintf(`{"username":"u%d","password":"pw"}`, i))
		if rec := do(t, h, r); rec.Code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 1 {
		t.Errorf("%d of %d failures from one address refused, want exactly the last", limited, cfg.SignInLimitAddr.N+1)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// niceRecordingAuth records the niceness of the thread each password
// check runs on.
type niceRecordingAuth struct {
	*users.File
	nice chan int
}

func (a niceRecordingAuth) Authenticate(ctx context.Context, user, pw string) (users.User, error) {
	n, err := lowpriority.ThreadNice()
	if err != nil {
		n = -100
	}
	a.nice <- n
	return a.File.Authenticate(ctx, user, pw)
}

// A password check runs at the lowest CPU priority, so that a flood of
// sign-ins yields the cores to renewals, sockets and /healthz (make
// bench's figure 8 measures the effect): right and wrong passwords alike.
func TestPasswordChecksRunAtLowestPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread priorities are Linux's")
	}
	auth := niceRecordingAuth{File: mustUsersFile(t), nice: make(chan int, 2)}
	h := newStack(t, fixture{auth: auth}).handler
	for _, pw := range []string{"secret", "wrong"} {
		do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"`+pw+`"}`))
		if n := <-auth.nice; n != lowpriority.Nice {
			t.Errorf("password %q checked at niceness %d, want %d", pw, n, lowpriority.Nice)
		}
	}
}
