package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// lastRenewID is the id of the last renew frame the client sent.
func (s *server) lastRenewID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	for i := len(s.sock.sent) - 1; i >= 0; i-- {
		if m := s.sock.sent[i]; m.Type == protocol.TypeRenew {
			return m.ID
		}
	}
	return ""
}

// TestExpiredEarlyRetriesFailedRenewals: the server says a token with an
// hour left has expired (an operator's or the lab's "expire now"), and
// its next two renewals fail. The client retries with backoff, a few
// times and not in a storm, and adopts the token once the server mints.
func TestExpiredEarlyRetriesFailedRenewals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(t, time.Hour)
		r := start(t, srv, half)
		defer r.end()
		srv.set(func(s *server) { s.answerRenew = false })
		first := srv.jti
		srv.push(protocol.Message{Type: protocol.TypeExpired, JTI: first, Exp: srv.exp, ServerTimeMS: time.Now().UnixMilli()})
		synctest.Wait()
		for i := range 2 {
			id := srv.lastRenewID()
			if id == "" || srv.renewFrames() != i+1 {
				t.Fatalf("renewal %d: %d renew frames, want %d", i+1, srv.renewFrames(), i+1)
			}
			if i == 1 {
				srv.set(func(s *server) { s.answerRenew = true })
			}
			srv.push(protocol.Message{Type: protocol.TypeError, ID: id, Code: protocol.ErrCodeRenewFailed,
				Text: "lab fault: this renewal fails with 503 Service Unavailable on purpose", ServerTimeMS: time.Now().UnixMilli()})
			sleep(time.Second) // past the first retries' backoff (250 ms, then 500 ms at most)
		}
		if got := srv.renewFrames(); got != 3 || srv.count("/token/refresh") != 0 {
			t.Errorf("%d renew frames and %d HTTP renewals, want 3 frames: two refused, one answered", got, srv.count("/token/refresh"))
		}
		if s := r.c.Snapshot(); s.Token == nil || s.Token.Claims.JTI == first || s.Renewals != 1 {
			t.Errorf("after the faults: %+v, want one renewal", s)
		}
		sleep(time.Minute)
		if got := srv.renewFrames(); got != 3 {
			t.Errorf("%d renew frames a minute later, want no more than 3", got)
		}
	})
}

// TestLabRefusalKeepsTheSession: a renewal refused with the lab's 401
// is a failed renewal, not the session's end: the client stays signed in
// and its next renewal works.
func TestLabRefusalKeepsTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(t, time.Hour)
		r := start(t, srv, half)
		defer r.end()
		srv.set(func(s *server) {
			s.refuse = true
			s.refresh = func() (int, string, error) {
				return 401, `{"error":{"code":"lab_unauthorized","message":"lab fault: this renewal fails with 401 Unauthorized on purpose (0 more to fail)"}}`, nil
			}
		})
		srv.drop(1006)
		synctest.Wait()
		r.c.Renew("button")
		synctest.Wait()
		if s := r.c.Snapshot(); s.Phase != client.SignedIn || len(r.rec.of(client.NoteSignedOut)) != 0 {
			t.Fatalf("after the lab's 401: phase %v, notes %v", s.Phase, r.rec.of(client.NoteSignedOut))
		}
		srv.set(func(s *server) { s.refresh = nil })
		sleep(2 * time.Second)
		before := r.c.Snapshot().Renewals
		r.c.Renew("button")
		synctest.Wait()
		if s := r.c.Snapshot(); s.Phase != client.SignedIn || s.Renewals != before+1 {
			t.Errorf("renewal after the fault: %+v", s)
		}
	})
}

// TestLabOrder: an order the server takes is a lab note and a timeline
// line; one it refuses is a failure naming the action.
func TestLabOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(t, time.Hour)
		r := start(t, srv, half)
		defer r.end()
		answered := make(chan client.Response, 1)
		r.c.Lab("fail", "fail the next 2 renewals with 503", []byte(`{"count":2,"status":503}`), func(resp client.Response) { answered <- resp })
		synctest.Wait()
		if resp := <-answered; resp.Status != 204 {
			t.Fatalf("answer %+v", resp)
		}
		notes := r.rec.of(client.NoteLab)
		if len(notes) != 1 || notes[0].Reason != "fail" || srv.count("/lab/fail") != 1 {
			t.Errorf("lab notes %+v, posts %d", notes, srv.count("/lab/fail"))
		}
	})
}

// TestRenewalAnsweredWithAnEarlierExpiry: a server whose clock went back
// (the lab's skew) answers a renewal with a token that expires sooner
// than the current one; it is the session's newest, and is adopted.
func TestRenewalAnsweredWithAnEarlierExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(t, time.Hour)
		r := start(t, srv, half)
		defer r.end()
		first := r.c.Snapshot().Token.Claims
		sleep(2 * time.Second)
		srv.set(func(s *server) { s.now = func() time.Time { return time.Now().Add(-10 * time.Minute) } })
		r.c.Renew("button")
		synctest.Wait()
		s := r.c.Snapshot()
		if s.Token == nil || s.Token.Claims.JTI == first.JTI || s.Token.Claims.Exp >= first.Exp || s.Renewals != 1 {
			t.Errorf("after a renewal minted 10 min behind: %+v, want its token adopted", s)
		}
	})
}
