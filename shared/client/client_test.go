package client_test

import (
	"encoding/base64"
	"errors"
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
	return &server{tb: tb, ttl: ttl, autoHello: true, answerRenew: true}
}

// mint makes the session's next token.
func (s *server) mint() string {
	s.minted++
	now := time.Now()
	s.jti = "JT" + strconv.Itoa(s.minted) + "-" + strconv.FormatInt(now.Unix(), 10)
	s.exp = now.Add(s.ttl).Unix()
	return mkToken(s.jti, now.Unix(), s.exp)
}

func (s *server) tokenBody() string { return `{"token":"` + s.mint() + `"}` }

func (s *server) transport() client.Transport {
	return client.Transport{Post: s.post, Dial: s.dial}
}

func (s *server) post(path string, body []byte) client.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, path)
	r := client.Response{Sent: time.Now(), Received: time.Now(), ServerTime: time.Now()}
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
			LeadMS: renew.Lead(s.ttl, renew.DefaultLead).Milliseconds(), ServerTimeMS: time.Now().UnixMilli()}
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
		go k.message(string(protocol.Encode(protocol.Message{Type: protocol.TypePong, ID: m.ID, ServerTimeMS: time.Now().UnixMilli()})))
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
