package hub

import (
	"context"
	"testing"
	"testing/synctest"
)

// TestSessionsAreBounded signs in far more sessions than MaxSessions with
// day-long tokens: the hub keeps at most MaxSessions, forgetting sessions
// without a tab, never one a tab is attached to; a forgotten session
// still renews (its cookie is valid) and comes back.
func TestSessionsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{MaxSessions: 10})
		defer f.h.Shutdown()
		withTab := newSession(86400)
		f.signIn(t, withTab)
		c := mustAttach(t, f.h, withTab)
		first := newSession(86400)
		f.signIn(t, first)
		for range 1000 {
			f.signIn(t, newSession(86400))
			if n := len(f.h.Sessions()); n > 10 {
				t.Fatalf("the hub tracks %d sessions, over its bound of 10", n)
			}
		}
		if _, ok := f.h.Lookup(withTab.ID); !ok {
			t.Error("a session with a tab was forgotten to make room")
		}
		if _, ok := f.h.Lookup(first.ID); ok {
			t.Error("1000 sign-ins later the first tab-less session is still tracked (nothing was evicted?)")
		}
		if _, err := f.h.Renew(context.Background(), first); err != nil {
			t.Fatalf("a forgotten session no longer renews: %v", err)
		}
		if _, ok := f.h.Lookup(first.ID); !ok {
			t.Error("a renewal did not bring the forgotten session back")
		}
		select {
		case <-c.Done():
			t.Error("the attached tab was closed")
		default:
		}
	})
}
