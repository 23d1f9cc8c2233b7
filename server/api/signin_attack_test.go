package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/device"
	"github.com/tokenlab/tokenlab/server/users"
)

// race runs n attempts at once, released together by a barrier, and
// returns their results in order.
func race(n int, attempt func(i int) *httpResult) []*httpResult {
	results := make([]*httpResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = attempt(i)
		})
	}
	close(start)
	wg.Wait()
	return results
}

func statuses(results []*httpResult) map[int]int {
	m := map[int]int{}
	for _, r := range results {
		m[r.status]++
	}
	return m
}

// Guesses sent together cannot outrun the limits: of 60 wrong passwords
// for one user from one address, and of 200 for an unknown user from 200
// addresses, only the burst of the per-user limit reach the password
// check; the rest are told when to come back.
func TestSignInParallelGuessesStopAtTheBurst(t *testing.T) {
	for _, tt := range []struct {
		name     string
		user     string
		n        int
		addrOf   func(i int) string
		password string
	}{
		{"one user from one address", "susan", 60, func(int) string { return "198.51.100.7:4000" }, "guess"},
		{"an unknown user from many addresses", "ghost", 200, func(i int) string { return fmt.Sprintf("10.0.%d.%d:1", i/250, i%250+1) }, "guess"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuarded(t, config.DefaultSignInLimitAddr, config.DefaultSignInLimitUser)
			results := race(tt.n, func(i int) *httpResult { return g.signInFrom(t, tt.addrOf(i), tt.user, tt.password) })
			burst := config.DefaultSignInLimitUser.N
			got := statuses(results)
			if got[http.StatusUnauthorized] != burst || got[http.StatusTooManyRequests] != tt.n-burst {
				t.Errorf("answers %v, want %d × 401 (the burst) and %d × 429", got, burst, tt.n-burst)
			}
			if c := g.comparisons(); c > burst {
				t.Errorf("%d password checks ran, want at most the burst %d", c, burst)
			}
			for _, r := range results {
				if r.status == http.StatusTooManyRequests && (r.header.Get("Retry-After") == "" || r.code() != api.CodeRateLimited) {
					t.Fatalf("a 429 without Retry-After or code: %v %s", r.header, r.body)
				}
			}
		})
	}
}

// gatedAuth holds password checks until the test opens its gate, and
// records how many ran at once.
type gatedAuth struct {
	users.Authenticator
	gate    chan struct{}
	mu      sync.Mutex
	running int
	most    int
	changed chan struct{} // a value after every change of running
}

func (a *gatedAuth) Authenticate(ctx context.Context, user, pw string) (users.User, error) {
	a.add(1)
	defer a.add(-1)
	<-a.gate
	return a.Authenticator.Authenticate(ctx, user, pw)
}

func (a *gatedAuth) add(d int) {
	a.mu.Lock()
	a.running += d
	a.most = max(a.most, a.running)
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

func (a *gatedAuth) counts() (running, most int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running, a.most
}

// A flood of sign-ins runs at most MaxPasswordChecks password checks at
// once; the rest wait a bounded time and get 503 with Retry-After, never
// a hang, while /healthz and a session's renewal still answer.
func TestSignInPasswordChecksAreBounded(t *testing.T) {
	auth := &gatedAuth{Authenticator: mustUsersFile(t), gate: make(chan struct{}), changed: make(chan struct{}, 1)}
	open := sync.OnceFunc(func() { close(auth.gate) })
	t.Cleanup(open)
	h := newStack(t, fixture{auth: auth, config: func(c *config.Config) {
		c.SignInLimitAddr, c.SignInLimitUser = config.DefaultSignInLimitAddr, config.DefaultSignInLimitUser
	}}).handler
	// A session started before the flood, to renew during it.
	ready := make(chan *httptest.ResponseRecorder)
	go func() { ready <- do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"secret"}`)) }()
	auth.gate <- struct{}{} // let exactly this one check through
	rec := <-ready
	ck := sessionCookie(t, rec.Result().Cookies())
	if rec.Code != http.StatusOK || ck == nil {
		t.Fatalf("sign-in before the flood: %d %s", rec.Code, rec.Body)
	}

	slots := api.MaxPasswordChecks()
	const extra = 6
	n := slots + extra
	results := make(chan *httpResult, n)
	for i := range n {
		go func() {
			r := jsonReq("POST", "/token", fmt.Sprintf(`{"username":"user%d","password":"guess"}`, i))
			r.RemoteAddr = fmt.Sprintf("10.1.0.%d:1", i+1)
			rec := do(t, h, r)
			results <- &httpResult{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
		}()
	}
	deadline := time.After(30 * time.Second)
	for running, _ := auth.counts(); running < slots; running, _ = auth.counts() {
		select {
		case <-auth.changed:
		case <-deadline:
			t.Fatalf("only %d of %d checks started", running, slots)
		}
	}
	// Every check is held: the rest of the server still answers.
	if rec := do(t, h, httptest.NewRequest("GET", "/healthz", nil)); rec.Code != http.StatusOK {
		t.Errorf("/healthz during the flood: %d", rec.Code)
	}
	if rec := refresh(t, h, ck); rec.Code != http.StatusOK {
		t.Errorf("renewal during the flood: %d %s", rec.Code, rec.Body)
	}
	// The sign-ins beyond the bound come back on their own.
	busy := 0
	for busy < extra {
		select {
		case r := <-results:
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || r.code() != api.CodeBusy {
				t.Fatalf("a waiting sign-in answered %d %v %s, want 503 busy with Retry-After 1", r.status, r.header, r.body)
			}
			busy++
		case <-deadline:
			_, most := auth.counts()
			t.Fatalf("%d of %d sign-ins beyond the bound came back; %d checks ran at once, want at most %d", busy, extra, most, slots)
		}
	}
	if _, most := auth.counts(); most > slots {
		t.Errorf("%d password checks ran at once, want at most %d", most, slots)
	}
	open()
	for range slots {
		if r := <-results; r.status != http.StatusUnauthorized {
			t.Errorf("a checked sign-in: %d %s", r.status, r.body)
		}
	}
}

func deviceCookie(cookies []*http.Cookie) *http.Cookie {
	for _, c := range cookies {
		if c.Name == device.CookieName {
			return c
		}
	}
	return nil
}

// browser signs in from one address, carrying one cookie.
type browser struct {
	addr   string
	cookie *http.Cookie
}

func (b *browser) signIn(tb testing.TB, g *guarded, user, password string) *httpResult {
	tb.Helper()
	r := withCookie(jsonReq("POST", "/token", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)), b.cookie)
	r.RemoteAddr = b.addr
	rec := do(tb, g.h, r)
	if c := deviceCookie(rec.Result().Cookies()); c != nil {
		b.cookie = c
	}
	return &httpResult{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// Guesses from elsewhere lock a username's strangers out, but not a
// browser that signed in as that user before: its device cookie gives it
// a limit of its own, which its own failures use up.
func TestSignInKnownBrowserIsNotLockedOut(t *testing.T) {
	userLimit := config.Limit{N: 5, Per: 5 * time.Minute}
	g := newGuarded(t, config.Limit{N: 100, Per: time.Minute}, userLimit)
	laptop, phone := &browser{addr: "192.0.2.10:1"}, &browser{addr: "192.0.2.11:1"}
	for _, b := range []*browser{laptop, phone} {
		if r := b.signIn(t, g, "susan", "secret"); r.status != http.StatusOK || b.cookie == nil {
			t.Fatalf("first sign-in: %d %s, device cookie %v", r.status, r.body, b.cookie)
		}
	}
	if c := laptop.cookie; !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/token" || c.Expires.IsZero() {
		t.Errorf("device cookie attributes: %+v", c)
	}
	rootsBrowser := &browser{addr: "192.0.2.12:1"}
	if r := rootsBrowser.signIn(t, g, "root", "toor"); r.status != http.StatusOK {
		t.Fatalf("root: %d", r.status)
	}

	// Mallory guesses from 30 addresses at once.
	results := race(30, func(i int) *httpResult {
		return g.signInFrom(t, fmt.Sprintf("203.0.113.%d:1", i+1), "susan", fmt.Sprint("guess", i))
	})
	if got := statuses(results); got[http.StatusUnauthorized] != userLimit.N {
		t.Fatalf("mallory's answers %v, want %d × 401", got, userLimit.N)
	}
	// A stranger is locked out, and so is a cookie that is not susan's
	// own: altered, or issued to another user.
	altered := *laptop.cookie
	altered.Value = altered.Value[:len(altered.Value)-2] + "xx"
	for name, b := range map[string]*browser{
		"a new browser":          {addr: "192.0.2.20:1"},
		"an altered cookie":      {addr: "192.0.2.21:1", cookie: &altered},
		"another user's cookie":  {addr: "192.0.2.22:1", cookie: rootsBrowser.cookie},
		"a cookie in its header": {addr: "192.0.2.23:1", cookie: &http.Cookie{Name: device.CookieName, Value: "d1.c3VzYW4.x.99999999999.sig"}},
	} {
		if r := b.signIn(t, g, "susan", "secret"); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "for this username") {
			t.Errorf("%s after the guesses: %d %s, want 429", name, r.status, r.body)
		}
	}
	// Susan's own browsers still sign in.
	for name, b := range map[string]*browser{"laptop": laptop, "phone": phone} {
		if r := b.signIn(t, g, "susan", "secret"); r.status != http.StatusOK {
			t.Errorf("susan's %s after the guesses: %d %s", name, r.status, r.body)
		}
	}
	// The laptop's own failures count against the laptop only.
	for i := range userLimit.N {
		if r := laptop.signIn(t, g, "susan", "typo"); r.status != http.StatusUnauthorized {
			t.Fatalf("laptop failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := laptop.signIn(t, g, "susan", "secret"); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "from this browser") || r.header.Get("Retry-After") == "" {
		t.Errorf("laptop after its own %d failures: %d %s", userLimit.N, r.status, r.body)
	}
	if r := phone.signIn(t, g, "susan", "secret"); r.status != http.StatusOK {
		t.Errorf("phone after the laptop's failures: %d %s", r.status, r.body)
	}
}
