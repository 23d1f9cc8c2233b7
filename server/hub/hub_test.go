package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

var creds = mint.Credentials{
	AccountSID:   "AC00000000000000000000000000000000",
	APIKeySID:    "SK00000000000000000000000000000000",
	APIKeySecret: "test-secret-test-secret-test-secret",
}

// fixture is a hub whose Mint signs real tokens on the bubble's clock and
// counts them.
type fixture struct {
	h       *Hub
	minter  *mint.Minter
	mints   atomic.Int64
	revoked sync.Map
}

func newFixture(tb testing.TB, o Options) *fixture {
	tb.Helper()
	m, err := mint.New(creds, nil)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{minter: m}
	o.Mint = func(ctx context.Context, s session.Session) (mint.Minted, error) {
		f.mints.Add(1)
		return f.minter.Mint(s.Identity, s.Grants, time.Duration(s.TTL)*time.Second)
	}
	o.Revoked = func(id string) bool { _, ok := f.revoked.Load(id); return ok }
	if o.Jitter == nil {
		o.Jitter = func(time.Duration) time.Duration { return 0 }
	}
	f.h = New(o)
	return f
}

var sessionCount atomic.Int64

// newSession returns a session with token ttl seconds, lasting a day.
func newSession(ttl int64) session.Session {
	now := time.Now()
	return session.Session{
		ID:       fmt.Sprintf("S%06d", sessionCount.Add(1)),
		Identity: "alice",
		Grants:   token.Grants{Video: &token.VideoGrant{Room: "r"}},
		TTL:      ttl,
		Created:  now,
		Expires:  now.Add(24 * time.Hour),
	}
}

// signIn mints the sign-in token and gives it to the hub.
func (f *fixture) signIn(tb testing.TB, s session.Session) mint.Minted {
	tb.Helper()
	m, err := f.minter.Mint(s.Identity, s.Grants, time.Duration(s.TTL)*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.h.Issued(s, m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func mustAttach(tb testing.TB, h *Hub, s session.Session) *Client {
	tb.Helper()
	c, err := h.Attach(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// next waits (on the bubble's clock) for the client's next message.
func next(tb testing.TB, c *Client) protocol.Message {
	tb.Helper()
	select {
	case b := <-c.Send():
		m, err := protocol.Decode(b)
		if err != nil {
			tb.Fatalf("the hub sent an invalid message %s: %v", b, err)
		}
		return m
	case <-time.After(48 * time.Hour):
		tb.Fatal("no message within 48 h")
	}
	return protocol.Message{}
}

func expectType(tb testing.TB, c *Client, typ string) protocol.Message {
	tb.Helper()
	m := next(tb, c)
	if m.Type != typ {
		tb.Fatalf("got %q message %+v, want %q", m.Type, m, typ)
	}
	return m
}

// pending reports whether a message is queued for c (after the bubble has
// settled).
func pending(c *Client) bool {
	synctest.Wait()
	return len(c.Send()) > 0
}

func TestWarningAtTheLead(t *testing.T) {
	tests := []struct {
		name     string
		ttl      int64
		lead     time.Duration
		jitter   bool // draw the largest jitter
		wantLead time.Duration
	}{
		{"configured lead", 600, time.Minute, false, time.Minute},
		{"jitter widens the lead, bounded", 600, time.Minute, true, time.Minute + renew.MaxJitter(time.Minute)},
		{"ttl shorter than the lead still warns", 30, time.Minute, false, 10 * time.Second},
		{"tiny ttl", 1, time.Minute, false, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := Options{Lead: tt.lead}
				if tt.jitter {
					o.Jitter = func(max time.Duration) time.Duration { return max }
				}
				f := newFixture(t, o)
				s := newSession(tt.ttl)
				m := f.signIn(t, s)
				c := mustAttach(t, f.h, s)
				hello := expectType(t, c, protocol.TypeHello)
				if hello.JTI != m.Claims.JTI || hello.Exp != m.Claims.Exp || hello.LeadMS != tt.wantLead.Milliseconds() ||
					hello.Identity != "alice" || hello.SessionExpMS != s.Expires.UnixMilli() {
					t.Errorf("hello = %+v", hello)
				}
				exp := time.Unix(m.Claims.Exp, 0)
				w := expectType(t, c, protocol.TypeExpiring)
				if got := exp.Sub(time.Now()); got != tt.wantLead {
					t.Errorf("expiring arrived %v before exp, want %v", got, tt.wantLead)
				}
				if w.JTI != m.Claims.JTI || w.LeadMS != tt.wantLead.Milliseconds() || w.ServerTimeMS != time.Now().UnixMilli() {
					t.Errorf("expiring = %+v", w)
				}
				x := expectType(t, c, protocol.TypeExpired)
				if !time.Now().Equal(exp) || x.JTI != m.Claims.JTI {
					t.Errorf("expired %+v at %v, want at exp %v", x, time.Now(), exp)
				}
			})
		})
	}
}

func TestJitterSpreadsWarnings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute, Jitter: defaultJitter()})
		leads := map[int64]bool{}
		for range 50 {
			s := newSession(600)
			f.signIn(t, s)
			c := mustAttach(t, f.h, s)
			h := expectType(t, c, protocol.TypeHello)
			lead := time.Duration(h.LeadMS) * time.Millisecond
			if lead < time.Minute || lead > time.Minute+renew.MaxJitter(time.Minute) {
				t.Fatalf("lead %v outside [1m, 1m+%v]", lead, renew.MaxJitter(time.Minute))
			}
			leads[h.LeadMS] = true
		}
		if len(leads) < 10 {
			t.Errorf("50 tokens expiring together got only %d distinct warning times", len(leads))
		}
	})
}

// defaultJitter is the jitter New installs when Options.Jitter is nil.
func defaultJitter() func(time.Duration) time.Duration {
	return New(Options{Mint: func(context.Context, session.Session) (mint.Minted, error) { return mint.Minted{}, nil }}).o.Jitter
}

func TestRenewalReschedules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute})
		s := newSession(600)
		first := f.signIn(t, s)
		c := mustAttach(t, f.h, s)
		expectType(t, c, protocol.TypeHello)
		expectType(t, c, protocol.TypeExpiring)

		renewed, err := f.h.Renew(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if renewed.Claims.JTI == first.Claims.JTI {
			t.Fatal("Renew returned the old token")
		}
		tok := expectType(t, c, protocol.TypeToken)
		if tok.Token != renewed.Token || tok.Reason != "renewed" || tok.JTI != renewed.Claims.JTI {
			t.Errorf("token message %+v", tok)
		}
		// The old token's expiry passes without "expired"; the next notice
		// is the new token's warning.
		w := expectType(t, c, protocol.TypeExpiring)
		if w.JTI != renewed.Claims.JTI || time.Unix(renewed.Claims.Exp, 0).Sub(time.Now()) != time.Minute {
			t.Errorf("after renewal: %+v at %v", w, time.Now())
		}
	})
}

func TestEveryTabGetsTheRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		s := newSession(600)
		f.signIn(t, s)
		a, b := mustAttach(t, f.h, s), mustAttach(t, f.h, s)
		other := newSession(600)
		f.signIn(t, other)
		stranger := mustAttach(t, f.h, other)
		for _, c := range []*Client{a, b, stranger} {
			expectType(t, c, protocol.TypeHello)
		}
		time.Sleep(2 * time.Second) // past the coalescing window

		// Over HTTP: both tabs are told.
		m, err := f.h.Renew(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*Client{a, b} {
			if got := expectType(t, c, protocol.TypeToken); got.Token != m.Token || got.ID != "" {
				t.Errorf("tab got %+v", got)
			}
		}
		// Over the socket: the asking tab gets its id back, the other the push.
		time.Sleep(2 * time.Second)
		m2, err := f.h.renew(t.Context(), s, a, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if got := expectType(t, a, protocol.TypeToken); got.ID != "r1" || got.Token != m2.Token {
			t.Errorf("asking tab got %+v", got)
		}
		if got := expectType(t, b, protocol.TypeToken); got.ID != "" || got.Token != m2.Token {
			t.Errorf("other tab got %+v", got)
		}
		if pending(stranger) {
			t.Errorf("another session's connection was told: %+v", next(t, stranger))
		}
	})
}

func TestConcurrentRenewalsMintOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute})
		s := newSession(600)
		f.signIn(t, s)
		c := mustAttach(t, f.h, s)
		expectType(t, c, protocol.TypeHello)
		time.Sleep(9*time.Minute + 1) // into the warning lead: a renewal is due
		expectType(t, c, protocol.TypeExpiring)
		before := f.mints.Load()

		var wg sync.WaitGroup
		jtis := make(chan string, 20)
		for i := range 20 {
			wg.Go(func() {
				var m mint.Minted
				var err error
				if i%2 == 0 {
					m, err = f.h.Renew(context.Background(), s)
				} else {
					m, err = f.h.renew(context.Background(), s, c, fmt.Sprint(i))
				}
				if err != nil {
					t.Error(err)
				}
				jtis <- m.Claims.JTI
			})
		}
		wg.Wait()
		close(jtis)
		seen := map[string]bool{}
		for j := range jtis {
			seen[j] = true
		}
		if n := f.mints.Load() - before; n != 1 || len(seen) != 1 {
			t.Errorf("20 concurrent renewals minted %d tokens, handed out %d distinct", n, len(seen))
		}
	})
}

func TestCoalescingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute})
		s := newSession(600)
		first := f.signIn(t, s)
		m, _ := f.h.Renew(t.Context(), s)
		if m.Claims.JTI != first.Claims.JTI {
			t.Error("a renewal right after sign-in minted again")
		}
		time.Sleep(DefaultCoalesceWindow)
		// The mint's clock has whole seconds: step past the jti's second.
		m2, _ := f.h.Renew(t.Context(), s)
		if m2.Token == first.Token {
			t.Error("a renewal after the window returned the old token")
		}

		// A token within its lead is never handed out as fresh.
		short := newSession(1) // lead 500 ms, inside the 1 s window
		f.signIn(t, short)
		time.Sleep(600 * time.Millisecond)
		before := f.mints.Load()
		if _, err := f.h.Renew(t.Context(), short); err != nil {
			t.Fatal(err)
		}
		if f.mints.Load() != before+1 {
			t.Error("a renewal of a token inside its lead did not mint")
		}
	})
}

func TestRevokeTellsEveryTab(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		s := newSession(600)
		f.signIn(t, s)
		a, b := mustAttach(t, f.h, s), mustAttach(t, f.h, s)
		f.revoked.Store(s.ID, true)
		if !f.h.Revoke(s.ID, "logout") {
			t.Fatal("Revoke did not find the session")
		}
		for _, c := range []*Client{a, b} {
			expectType(t, c, protocol.TypeHello)
			if r := expectType(t, c, protocol.TypeRevoked); r.Reason != "logout" {
				t.Errorf("revoked reason %q", r.Reason)
			}
			<-c.Done()
			if code, _, drain := c.CloseCode(); code != protocol.CloseRevoked || !drain {
				t.Errorf("close code %d drain %v, want 4001 after the queue", code, drain)
			}
		}
		if _, err := f.h.Attach(s); !errors.Is(err, ErrSessionGone) {
			t.Errorf("Attach after revoke: %v", err)
		}
		if _, err := f.h.Renew(t.Context(), s); !errors.Is(err, ErrSessionGone) {
			t.Errorf("Renew after revoke: %v", err)
		}
		if f.h.Connections() != 0 || len(f.h.Sessions()) != 0 {
			t.Errorf("after revoke: %d connections, %d sessions", f.h.Connections(), len(f.h.Sessions()))
		}
	})
}

func TestSessionEndsAtItsLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		s := newSession(3600)
		s.Expires = time.Now().Add(90 * time.Minute)
		c := mustAttach(t, f.h, s)
		expectType(t, c, protocol.TypeHello)
		f.signIn(t, s)
		expectType(t, c, protocol.TypeToken)
		expectType(t, c, protocol.TypeExpiring)
		expectType(t, c, protocol.TypeExpired)
		r := expectType(t, c, protocol.TypeRevoked)
		if r.Reason != "session_expired" || !time.Now().Equal(s.Expires) {
			t.Errorf("%+v at %v, want session_expired at %v", r, time.Now(), s.Expires)
		}
		<-c.Done()
		if code, _, _ := c.CloseCode(); code != protocol.CloseSessionExpired {
			t.Errorf("close code %d, want 4002", code)
		}
	})
}

func TestHelloWithoutTokenAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		s := newSession(600) // a valid cookie the new process has never seen
		c := mustAttach(t, f.h, s)
		h := expectType(t, c, protocol.TypeHello)
		if h.JTI != "" || h.Exp != 0 {
			t.Errorf("hello for an unknown token: %+v", h)
		}
		m, err := f.h.renew(t.Context(), s, c, "x")
		if err != nil {
			t.Fatal(err)
		}
		if tok := expectType(t, c, protocol.TypeToken); tok.JTI != m.Claims.JTI || tok.ID != "x" {
			t.Errorf("token %+v", tok)
		}
	})
}

func TestLateTabGetsTheCurrentNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute})
		s := newSession(600)
		f.signIn(t, s)
		a := mustAttach(t, f.h, s)
		expectType(t, a, protocol.TypeHello)
		expectType(t, a, protocol.TypeExpiring)
		b := mustAttach(t, f.h, s)
		expectType(t, b, protocol.TypeHello)
		expectType(t, b, protocol.TypeExpiring)
	})
}

func TestConnectionLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{MaxConnsPerSession: 2, MaxConns: 3})
		s1, s2 := newSession(600), newSession(600)
		mustAttach(t, f.h, s1)
		c := mustAttach(t, f.h, s1)
		if _, err := f.h.Attach(s1); !errors.Is(err, ErrTooManyForSession) {
			t.Errorf("third tab of a session: %v", err)
		}
		mustAttach(t, f.h, s2)
		if _, err := f.h.Attach(s2); !errors.Is(err, ErrTooManyConns) {
			t.Errorf("fourth connection of the server: %v", err)
		}
		f.h.Detach(c)
		mustAttach(t, f.h, s2)
		if got := f.h.Connections(); got != 3 {
			t.Errorf("Connections = %d, want 3", got)
		}
	})
}

func TestSlowClientIsDroppedOthersKeepUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{CoalesceWindow: -1, SendBuffer: 4})
		s := newSession(600)
		f.signIn(t, s)
		slow, fast := mustAttach(t, f.h, s), mustAttach(t, f.h, s)
		expectType(t, fast, protocol.TypeHello)
		for i := range 10 {
			time.Sleep(time.Second) // a new jti second each time
			m, err := f.h.Renew(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			if got := expectType(t, fast, protocol.TypeToken); got.JTI != m.Claims.JTI {
				t.Fatalf("renewal %d: fast tab got %s, want %s", i, got.JTI, m.Claims.JTI)
			}
		}
		select {
		case <-slow.Done():
		default:
			t.Fatal("a tab that never read its queue is still attached")
		}
		if code, _, _ := slow.CloseCode(); code != closeTooSlow {
			t.Errorf("slow tab close code %d", code)
		}
		if got := f.h.Connections(); got != 1 {
			t.Errorf("Connections = %d, want 1", got)
		}
	})
}

func TestIdleSessionsAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		s := newSession(60)
		f.signIn(t, s)
		if l := f.h.Sessions(); len(l) != 1 || l[0].ID != s.ID || l[0].JTI == "" || l[0].Connections != 0 {
			t.Fatalf("Sessions = %+v", l)
		}
		time.Sleep(61 * time.Second)
		synctest.Wait()
		if l := f.h.Sessions(); len(l) != 0 {
			t.Errorf("an expired token with no tab is still tracked: %+v", l)
		}
		// The cookie is still good: a renewal brings the session back.
		if _, err := f.h.Renew(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if l := f.h.Sessions(); len(l) != 1 {
			t.Errorf("Sessions after renewal = %+v", l)
		}
	})
}

func TestShutdownClosesEveryConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		var cs []*Client
		for range 3 {
			s := newSession(600)
			f.signIn(t, s)
			cs = append(cs, mustAttach(t, f.h, s))
		}
		f.h.Shutdown()
		for _, c := range cs {
			<-c.Done()
			if code, _, _ := c.CloseCode(); code != closeGoingAway {
				t.Errorf("close code %d, want 1001", code)
			}
		}
		if _, err := f.h.Attach(newSession(600)); !errors.Is(err, ErrShuttingDown) {
			t.Errorf("Attach after Shutdown: %v", err)
		}
	})
}

// TestTenThousandSessions checks that one timer per session carries 10k
// sessions: every connection gets its warning and its expiry.
func TestTenThousandSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("10k sessions")
	}
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Lead: time.Minute, Jitter: defaultJitter(), MaxConns: 20_000})
		const n = 10_000
		clients := make([]*Client, n)
		for i := range n {
			s := newSession(int64(300 + i%600))
			f.signIn(t, s)
			clients[i] = mustAttach(t, f.h, s)
		}
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		for i, c := range clients {
			var types []string
			for len(c.Send()) > 0 {
				b := <-c.Send()
				m, _ := protocol.Decode(b)
				types = append(types, m.Type)
			}
			if fmt.Sprint(types) != "[hello expiring expired]" {
				t.Fatalf("client %d got %v", i, types)
			}
		}
		if got := f.mints.Load(); got != 0 {
			t.Errorf("%d renewals nobody asked for", got)
		}
	})
}

// TestRenewalsWaitingOnAMintShareIt turns the coalescing window off: the
// requests that arrived while a mint was in flight still share its token.
func TestRenewalsWaitingOnAMintShareIt(t *testing.T) {
	f := newFixture(t, Options{CoalesceWindow: -1})
	inner := f.h.o.Mint
	f.h.o.Mint = func(ctx context.Context, s session.Session) (mint.Minted, error) {
		time.Sleep(200 * time.Millisecond) // a slow mint: every request arrives during it
		return inner(ctx, s)
	}
	s := newSession(600)
	f.signIn(t, s)
	before := f.mints.Load()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			<-start
			if _, err := f.h.Renew(context.Background(), s); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := f.mints.Load() - before; n != 1 {
		t.Errorf("20 renewals arriving during one mint minted %d tokens", n)
	}
}
