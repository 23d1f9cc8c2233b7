package client_test

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// mkToken builds an unsigned token the client can decode: it never checks
// signatures, the server does.
func mkToken(jti string, iat, exp int64) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload := `{"jti":"` + jti + `","iss":"SKtest","sub":"ACtest","iat":` + strconv.FormatInt(iat, 10) +
		`,"exp":` + strconv.FormatInt(exp, 10) + `,"grants":{"identity":"alice"}}`
	return enc([]byte(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

// server plays tokenlab's server for one client, inside a synctest bubble.
// It mints a token of ttl on sign-in and on every renewal it answers.
type server struct {
	tb  testing.TB
	ttl time.Duration

	mu          sync.Mutex
	minted      int
	refresh     func() (status int, body string, err error) // nil: mint
	posts       []string
	dials       []time.Time
	refuse      bool    // dials fail at once (1006)
	sock        *socket // the last dialled
	autoHello   bool    // greet each socket with the live token
	answerRenew bool    // answer renew frames with a new token
	jti         string
	exp         int64
	// now is the server's clock: the bubble's, ahead by skew, or a run's
	// wall clock.
	now  func() time.Time
	skew time.Duration
	jam  chan struct{} // closed when the run ends
}

func (s *server) clock() time.Time {
	if s.now != nil {
		return s.now().Add(s.skew)
	}
	return time.Now().Add(s.skew)
}

type socket struct {
	srv     *server
	message func(string)
	closed  func(int, string)
	mu      sync.Mutex
	sent    []protocol.Message
	done    bool
}

func newServer(tb testing.TB, ttl time.Duration) *server {
	return &server{tb: tb, ttl: ttl, autoHello: true, answerRenew: true, jam: make(chan struct{})}
}

// mint makes the session's next token.
func (s *server) mint() string {
	s.minted++
	now := s.clock()
	s.jti = "JT" + strconv.Itoa(s.minted) + "-" + strconv.FormatInt(now.Unix(), 10)
	s.exp = now.Add(s.ttl).Unix()
	return mkToken(s.jti, now.Unix(), s.exp)
}

func (s *server) tokenBody() string { return `{"token":"` + s.mint() + `"}` }

func (s *server) transport() client.Transport {
	return client.Transport{Post: s.post, Dial: s.dial}
}

// stormLimit is more requests than any test needs: past it, the server
// stops answering (so a storm cannot spin forever on the fake clock) and
// the test fails.
const stormLimit = 5000

func (s *server) post(path string, body []byte) client.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, path)
	if len(s.posts) == stormLimit {
		s.tb.Errorf("more than %d requests: a storm", stormLimit)
	}
	if len(s.posts) >= stormLimit {
		s.mu.Unlock()
		<-s.jam // released when the run ends
		s.mu.Lock()
		return client.Response{Err: errors.New("jammed")}
	}
	r := client.Response{Sent: time.Now(), Received: time.Now(), ServerTime: s.clock()}
	switch path {
	case "/token":
		r.Status, r.Body = 200, []byte(s.tokenBody())
	case "/token/refresh":
		if s.refresh != nil {
			status, b, err := s.refresh()
			r.Status, r.Body, r.Err = status, []byte(b), err
			return r
		}
		r.Status, r.Body = 200, []byte(s.tokenBody())
	default:
		r.Status = 204
	}
	return r
}

func (s *server) dial(message func(string), closed func(int, string)) client.Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dials = append(s.dials, time.Now())
	k := &socket{srv: s, message: message, closed: closed}
	if s.refuse {
		k.done = true
		go closed(1006, "")
		return k
	}
	s.sock = k
	if s.autoHello {
		hello := protocol.Message{Type: protocol.TypeHello, Identity: "alice", JTI: s.jti, Exp: s.exp,
			LeadMS: renew.Lead(s.ttl, renew.DefaultLead).Milliseconds(), ServerTimeMS: s.clock().UnixMilli()}
		go message(string(protocol.Encode(hello)))
	}
	return k
}

func (k *socket) Send(text string) bool {
	m, err := protocol.Decode([]byte(text))
	if err != nil {
		k.srv.tb.Errorf("the client sent %q: %v", text, err)
		return false
	}
	k.mu.Lock()
	if k.done {
		k.mu.Unlock()
		return false
	}
	k.sent = append(k.sent, m)
	k.mu.Unlock()
	k.srv.mu.Lock()
	defer k.srv.mu.Unlock()
	if m.Type == protocol.TypePing {
		go k.message(string(protocol.Encode(protocol.Message{Type: protocol.TypePong, ID: m.ID, ServerTimeMS: k.srv.clock().UnixMilli()})))
	}
	if m.Type == protocol.TypeRenew && k.srv.answerRenew {
		raw := k.srv.mint()
		go k.message(string(protocol.Encode(protocol.Message{Type: protocol.TypeToken, ID: m.ID, Token: raw, JTI: k.srv.jti, Exp: k.srv.exp, Reason: "renewed"})))
	}
	return true
}

func (k *socket) Close(code int, reason string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.done {
		k.done = true
		go k.closed(code, reason)
	}
}

// push sends m to the client on the last socket.
func (s *server) push(m protocol.Message) {
	s.mu.Lock()
	k := s.sock
	s.mu.Unlock()
	k.message(string(protocol.Encode(m)))
}

// drop ends the last socket from the server's side.
func (s *server) drop(code int) {
	s.mu.Lock()
	k := s.sock
	s.mu.Unlock()
	k.mu.Lock()
	k.done = true
	k.mu.Unlock()
	k.closed(code, "")
}

func (s *server) renewFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.sock != nil {
		s.sock.mu.Lock()
		for _, m := range s.sock.sent {
			if m.Type == protocol.TypeRenew {
				n++
			}
		}
		s.sock.mu.Unlock()
	}
	return n
}

func (s *server) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.posts {
		if p == path {
			n++
		}
	}
	return n
}

func (s *server) dialCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dials)
}

// rec records what a client tells its observer.
type rec struct {
	mu    sync.Mutex
	notes []client.Note
	fails []string
}

func (r *rec) observer() client.Observer {
	return client.Observer{
		Note: func(n client.Note) { r.mu.Lock(); r.notes = append(r.notes, n); r.mu.Unlock() },
		Fail: func(code, msg, _ string, _ bool) {
			r.mu.Lock()
			r.fails = append(r.fails, code+": "+msg)
			r.mu.Unlock()
		},
	}
}

// of returns the notes of kind k.
func (r *rec) of(k client.Kind) []client.Note {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []client.Note
	for _, n := range r.notes {
		if n.Kind == k {
			out = append(out, n)
		}
	}
	return out
}

// renewals returns the triggers of the tokens adopted after the first.
func (r *rec) renewals() []string {
	var out []string
	for _, n := range r.of(client.NoteToken) {
		if n.Renewals > 0 {
			out = append(out, n.Trigger)
		}
	}
	return out
}

// run is one client in a bubble, signed in and connected to srv.
type run struct {
	t    *testing.T
	srv  *server
	rec  *rec
	c    *client.Client
	stop chan struct{}
	done chan struct{}
	wall *wallClock
}

// wallClock is the local wall clock, which a test can jump forward as a
// machine's clock does after it slept.
type wallClock struct {
	mu   sync.Mutex
	jump time.Duration
}

func (w *wallClock) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Now().Add(w.jump)
}

func (w *wallClock) add(d time.Duration) {
	w.mu.Lock()
	w.jump += d
	w.mu.Unlock()
}

func start(t *testing.T, srv *server, rnd func() float64) *run {
	r := &run{t: t, srv: srv, rec: &rec{}, stop: make(chan struct{}), done: make(chan struct{}), wall: &wallClock{}}
	if srv.now == nil {
		srv.now = r.wall.now
	}
	r.c = client.New(client.Config{Transport: srv.transport(), Observer: r.rec.observer(), Rand: rnd, Now: r.wall.now})
	go func() { r.c.Run(r.stop); close(r.done) }()
	r.c.SignIn([]byte(`{"username":"alice","password":"pw"}`))
	synctest.Wait()
	if s := r.c.Snapshot(); s.Phase != client.SignedIn || !s.Connected {
		t.Fatalf("after sign-in: %+v, want signed in and connected", s)
	}
	t.Cleanup(func() {})
	return r
}

func (r *run) end() {
	close(r.stop)
	<-r.done
	close(r.srv.jam)
}

// sleep lets fake time pass with every goroutine settled.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func half() float64 { return 0.5 }

// offline is a refresh that never reaches the server.
func offline() (int, string, error) { return 0, "", errors.New("network down") }

func TestEveryTriggerRenewsOnce(t *testing.T) {
	const ttl = 10 * time.Minute // lead 60 s; the page's own timer at 30 s before expiry
	tests := []struct {
		name    string
		trigger func(r *run)
		want    string
	}{
		{"server warning", func(r *run) {
			sleep(ttl - time.Minute)
			r.srv.push(protocol.Message{Type: protocol.TypeExpiring, JTI: r.srv.jti, Exp: r.srv.exp, LeadMS: 60000, ServerTimeMS: time.Now().UnixMilli()})
		}, "server warning"},
		{"server says expired", func(r *run) {
			r.srv.push(protocol.Message{Type: protocol.TypeExpired, JTI: r.srv.jti, Exp: r.srv.exp})
		}, "server: expired"},
		{"page timer when no warning comes", func(r *run) {
			sleep(ttl - 30*time.Second)
		}, "page timer"},
		{"page visible again near expiry", func(r *run) {
			r.c.SetMinDelay(time.Hour) // a hidden tab's throttled timer
			sleep(ttl - 45*time.Second)
			r.c.Wake("page visible again")
		}, "page visible again"},
		{"online again near expiry", func(r *run) {
			r.c.SetMinDelay(time.Hour)
			r.srv.mu.Lock()
			r.srv.refuse = true
			r.srv.refresh = offline
			r.srv.mu.Unlock()
			r.srv.drop(1006)
			sleep(ttl - 45*time.Second)
			r.srv.mu.Lock()
			r.srv.refuse, r.srv.refresh = false, nil
			r.srv.mu.Unlock()
			r.c.Wake("back online")
		}, "back online"},
		{"another tab renewed", func(r *run) {
			sleep(time.Minute)
			r.srv.drop(1006) // this tab was away; another renewed meanwhile
			r.srv.mu.Lock()
			r.srv.mint()
			r.srv.mu.Unlock()
		}, "reconnect (newer token)"},
		{"the button", func(r *run) { r.c.Renew("button") }, "button"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := start(t, newServer(t, ttl), half)
				defer r.end()
				tt.trigger(r)
				synctest.Wait()
				sleep(time.Second)
				if got := r.rec.renewals(); len(got) != 1 || got[0] != tt.want {
					t.Errorf("renewals %q, want one by %q", got, tt.want)
				}
				if s := r.c.Snapshot(); s.Phase != client.SignedIn || s.Renewing || s.Token.Claims.JTI != r.srv.jti {
					t.Errorf("after the renewal: %+v (server's jti %s)", s, r.srv.jti)
				}
			})
		})
	}
}

// Triggers that come together (a warning, the page waking, the button,
// the page's own timer) make one renewal, not one each.
func TestSimultaneousTriggersCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 10 * time.Minute
		srv := newServer(t, ttl)
		srv.answerRenew = false // answered below, after every trigger
		r := start(t, srv, half)
		defer r.end()
		sleep(ttl - 30*time.Second) // the page's own timer falls due
		var ready, wg sync.WaitGroup
		ready.Add(1)
		triggers := []func(){
			func() {
				r.srv.push(protocol.Message{Type: protocol.TypeExpiring, JTI: r.srv.jti, Exp: r.srv.exp, ServerTimeMS: time.Now().UnixMilli()})
			},
			func() { r.c.Wake("page visible again") },
			func() { r.c.Wake("back online") },
			func() { r.c.Renew("button") },
			func() { r.c.Renew("button") },
		}
		for _, f := range triggers {
			wg.Add(1)
			go func() { defer wg.Done(); ready.Wait(); f() }()
		}
		ready.Done()
		wg.Wait()
		sleep(time.Second)
		if n := srv.renewFrames(); n != 1 {
			t.Fatalf("%d renew frames for simultaneous triggers, want 1", n)
		}
		if n := srv.count("/token/refresh"); n != 0 {
			t.Errorf("%d HTTP refreshes beside the socket's renewal, want 0", n)
		}
		var id string
		srv.sock.mu.Lock()
		for _, m := range srv.sock.sent {
			if m.Type == protocol.TypeRenew {
				id = m.ID
			}
		}
		srv.sock.mu.Unlock()
		srv.mu.Lock()
		raw := srv.mint()
		srv.mu.Unlock()
		srv.push(protocol.Message{Type: protocol.TypeToken, ID: id, Token: raw, JTI: srv.jti, Exp: srv.exp})
		sleep(time.Minute)
		if got := r.rec.renewals(); len(got) != 1 || got[0] != "page timer" {
			t.Errorf("renewals %q, want one, by the page timer that came first", got)
		}
	})
}

func (s *server) set(f func(s *server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// Every way the server ends a session stops the client for good: no
// reconnecting, no renewing, no knocking.
func TestSessionEndStopsTheClient(t *testing.T) {
	tests := []struct {
		name string
		end  func(r *run)
		want string // the signed_out note's reason
	}{
		{"revoked message", func(r *run) {
			r.srv.push(protocol.Message{Type: protocol.TypeRevoked, Reason: "operator"})
		}, "operator"},
		{"close 4001", func(r *run) { r.srv.drop(protocol.CloseRevoked) }, "close_4001"},
		{"close 4002", func(r *run) { r.srv.drop(protocol.CloseSessionExpired) }, "close_4002"},
		{"error session_gone", func(r *run) {
			r.srv.push(protocol.Message{Type: protocol.TypeError, Code: protocol.ErrCodeSessionGone, Text: "gone"})
		}, "session_gone"},
		{"HTTP 401 while the socket cannot connect", func(r *run) {
			r.srv.set(func(s *server) {
				s.refuse = true
				s.refresh = func() (int, string, error) {
					return 401, `{"error":{"code":"session_expired","message":"sign in again"}}`, nil
				}
			})
			r.srv.drop(1006)
			sleep(5 * time.Minute)
		}, "session_gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := start(t, newServer(t, 10*time.Minute), rand.Float64)
				defer r.end()
				tt.end(r)
				synctest.Wait()
				out := r.rec.of(client.NoteSignedOut)
				if len(out) != 1 || out[0].Reason != tt.want {
					t.Fatalf("signed_out notes %+v, want one with reason %q", out, tt.want)
				}
				dials, posts := r.srv.dialCount(), len(r.srv.posts)
				sleep(time.Hour)
				if s := r.c.Snapshot(); s.Phase != client.SignedOut || s.Token != nil || s.Dialling {
					t.Errorf("an hour after the end: %+v", s)
				}
				if d, p := r.srv.dialCount(), len(r.srv.posts); d != dials || p != posts {
					t.Errorf("an hour after the end: %d dials and %d requests more, want none", d-dials, p-posts)
				}
			})
		})
	}
}

// A server that cannot be reached is dialled again with growing, jittered
// delays: each below its backoff ceiling, different from each other, and
// few enough that a thousand clients do not storm a recovering server.
func TestReconnectBackoffIsJitteredAndBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t, newServer(t, time.Hour), rand.New(rand.NewPCG(1, 2)).Float64)
		defer r.end()
		r.srv.set(func(s *server) { s.refuse, s.refresh = true, offline })
		r.srv.drop(1006)
		sleep(10 * time.Minute)
		r.srv.mu.Lock()
		dials := append([]time.Time(nil), r.srv.dials...)
		r.srv.mu.Unlock()
		gaps := map[time.Duration]bool{}
		for i := 2; i < len(dials); i++ {
			gap := dials[i].Sub(dials[i-1])
			// The first redial follows the drop; gap i follows failure i-1.
			if ceiling := renew.ReconnectBackoff.Ceiling(i - 1); gap > ceiling {
				t.Errorf("dial %d came %v after the last, above the ceiling %v", i, gap, ceiling)
			}
			gaps[gap] = true
		}
		// Full jitter over a 20 s ceiling averages 10 s: about 60 dials in
		// 10 minutes. A storm would be thousands.
		if n := len(dials); n < 20 || n > 150 {
			t.Errorf("%d dials in 10 minutes offline, want 20 to 150", n)
		}
		if len(gaps) < len(dials)/2 {
			t.Errorf("%d distinct delays among %d dials: not jittered", len(gaps), len(dials))
		}
		// Every third failure checks the session over HTTP, no more.
		if n, max := r.srv.count("/token/refresh"), len(dials)/3+2; n > max {
			t.Errorf("%d refreshes for %d failed dials, want at most %d", n, len(dials), max)
		}
	})
}

// Failed renewals near expiry are retried with backoff bounded by the time
// left, so several fit before expiry, and never as a storm.
func TestRenewalRetriesBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 10 * time.Minute
		srv := newServer(t, ttl)
		r := start(t, srv, rand.New(rand.NewPCG(3, 4)).Float64)
		defer r.end()
		srv.set(func(s *server) {
			s.refuse = true
			s.refresh = func() (int, string, error) {
				return 503, `{"error":{"code":"unavailable","message":"try later"}}`, nil
			}
		})
		srv.drop(1006)
		sleep(ttl - 30*time.Second) // the page's timer is due now
		before := srv.count("/token/refresh")
		sleep(25 * time.Second)
		n := srv.count("/token/refresh") - before
		if n < 3 || n > 60 {
			t.Errorf("%d renewal attempts in the 25 s before expiry, want 3 to 60", n)
		}
		srv.set(func(s *server) { s.refresh = nil })
		sleep(5 * time.Second)
		if s := r.c.Snapshot(); s.Token == nil || s.Token.Claims.JTI != srv.jti {
			t.Errorf("the server answers again: %+v, want its new token %s", s, srv.jti)
		}
	})
}

// The client renews by the server's clock, not its own: a server 90 s
// ahead gets its renewal 30 s before the token's expiry on its clock.
func TestClockOffsetSchedulesByServerTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 10 * time.Minute
		srv := newServer(t, ttl)
		srv.skew = 90 * time.Second
		r := start(t, srv, half)
		defer r.end()
		off, unc, known := r.c.Offset()
		if !known || off < 89*time.Second || off > 91*time.Second {
			t.Fatalf("offset %v ± %v (known %v), want 90 s", off, unc, known)
		}
		sleep(ttl - 31*time.Second)
		if got := r.rec.renewals(); len(got) != 0 {
			t.Fatalf("renewed %q 31 s before expiry, want the page timer at 30 s", got)
		}
		sleep(2 * time.Second)
		if got := r.rec.renewals(); len(got) != 1 || got[0] != "page timer" {
			t.Errorf("renewals %q 29 s before expiry, want the page timer's", got)
		}
	})
}

// A machine that slept past its token's renewal time renews within a few
// seconds of waking, not when its suspended timer would have fired.
func TestWallClockJumpRenewsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 10 * time.Minute
		r := start(t, newServer(t, ttl), half)
		defer r.end()
		sleep(2 * time.Minute)
		r.wall.add(9 * time.Minute) // asleep; the server's clock went on
		sleep(renew.DefaultCheckEvery)
		if got := r.rec.renewals(); len(got) != 1 || got[0] != "page timer" {
			t.Fatalf("renewals %q within %v of waking, want the page timer's", got, renew.DefaultCheckEvery)
		}
		if s := r.c.Snapshot(); s.Token.Claims.JTI != r.srv.jti {
			t.Errorf("after waking: %+v, want the server's new token %s", s, r.srv.jti)
		}
	})
}

// Offline for longer than the token lives: the client keeps its session,
// retries at a bounded pace, and renews as soon as the network is back.
func TestOfflineLongerThanTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 2 * time.Minute
		srv := newServer(t, ttl)
		r := start(t, srv, rand.New(rand.NewPCG(5, 6)).Float64)
		defer r.end()
		srv.set(func(s *server) { s.refuse, s.refresh = true, offline })
		srv.drop(1006)
		sleep(3 * ttl)
		if s := r.c.Snapshot(); s.Phase != client.SignedIn || s.Connected {
			t.Fatalf("offline past expiry: %+v, want still signed in, not connected", s)
		}
		// Expired, a failed renewal is retried at RetryBackoff's pace (2.5 s on
		// average); a storm would be thousands.
		if d, p := srv.dialCount(), srv.count("/token/refresh"); d > 80 || p > 250 {
			t.Errorf("%d dials and %d refreshes in %v offline: a storm", d, p, 3*ttl)
		}
		srv.set(func(s *server) { s.refuse, s.refresh = false, nil })
		r.c.Wake("back online")
		synctest.Wait()
		s := r.c.Snapshot()
		if !s.Connected || s.Token.Claims.JTI != srv.jti || !s.Exp.After(time.Now()) {
			t.Errorf("back online: %+v, want connected with the server's new token %s", s, srv.jti)
		}
		if got := r.rec.renewals(); len(got) == 0 || got[len(got)-1] != "back online" {
			t.Errorf("renewals %q, want the last by %q", got, "back online")
		}
	})
}
