package expiry_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// sdkEvents records when an SDK connection's lifecycle fired.
type sdkEvents struct {
	mu             sync.Mutex
	warned, expiry time.Time
}

func (e *sdkEvents) AboutToExpire() { e.mu.Lock(); e.warned = time.Now(); e.mu.Unlock() }
func (e *sdkEvents) Expired()       { e.mu.Lock(); e.expiry = time.Now(); e.mu.Unlock() }

// TestHubAndSDKShareTheSchedule: for the same token, lead and jitter, the
// page's "expiring" and "expired" (the hub) and the SDK connection's
// tokenAboutToExpire and expiry (sdkconn) come at the same instants: both
// owners run on this package.
func TestHubAndSDKShareTheSchedule(t *testing.T) {
	for _, ttl := range []time.Duration{6 * time.Second, 30 * time.Second, 10 * time.Minute} {
		t.Run(ttl.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				jitter := func(max time.Duration) time.Duration { return max / 2 }
				m, err := mint.New(mint.Credentials{AccountSID: "AC" + zeros, APIKeySID: "SK" + zeros, APIKeySecret: "shared-schedule-secret"}, nil)
				if err != nil {
					t.Fatal(err)
				}
				grants := token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS" + zeros}}
				h := hub.New(hub.Options{Lead: time.Minute, Jitter: jitter,
					Mint: func(context.Context, session.Session) (mint.Minted, error) { return m.Mint("alice", grants, ttl) }})
				defer h.Shutdown()
				s := session.Session{ID: "S1", Identity: "alice", TTL: int64(ttl / time.Second), Created: time.Now(), Expires: time.Now().Add(24 * time.Hour)}
				tok, err := m.Mint("alice", grants, ttl)
				if err != nil {
					t.Fatal(err)
				}
				if err := h.Issued(s, tok); err != nil {
					t.Fatal(err)
				}
				tab, err := h.Attach(s)
				if err != nil {
					t.Fatal(err)
				}
				ev := &sdkEvents{}
				life := sdkconn.NewLifecycle(time.Minute, jitter, ev)
				life.SetToken(tok.Claims.TTL(), tok.Claims.ExpiresAt())
				defer life.Stop()

				var pageWarned, pageExpired time.Time
				for pageExpired.IsZero() {
					select {
					case b := <-tab.Send():
						msg, _ := protocol.Decode(b)
						switch msg.Type {
						case protocol.TypeExpiring:
							pageWarned = time.Now()
						case protocol.TypeExpired:
							pageExpired = time.Now()
						}
					case <-time.After(2 * ttl):
						t.Fatal("the tab heard no expired within twice the ttl")
					}
				}
				synctest.Wait()
				ev.mu.Lock()
				defer ev.mu.Unlock()
				if !ev.warned.Equal(pageWarned) || !ev.expiry.Equal(pageExpired) {
					t.Errorf("page warned at %v and expired at %v; SDK warned at %v and expired at %v: want the same instants",
						pageWarned, pageExpired, ev.warned, ev.expiry)
				}
			})
		})
	}
}

const zeros = "00000000000000000000000000000000"
