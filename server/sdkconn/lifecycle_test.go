package sdkconn

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// events records when each event fired, on the fake clock. The test reads
// it after synctest.Wait, when the timer goroutines are done; the mutex
// tells the race detector so.
type events struct {
	mu              sync.Mutex
	warned, expired []time.Time
}

func (e *events) AboutToExpire() { e.mu.Lock(); e.warned = append(e.warned, time.Now()); e.mu.Unlock() }
func (e *events) Expired()       { e.mu.Lock(); e.expired = append(e.expired, time.Now()); e.mu.Unlock() }

func TestLifecycle(t *testing.T) {
	noJitter := func(time.Duration) time.Duration { return 0 }
	t.Run("warns at the scaled lead, expires at exp", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ev := &events{}
			l := NewLifecycle(time.Minute, noJitter, ev)
			start := time.Now()
			l.SetToken(30*time.Second, start.Add(30*time.Second)) // lead scales to 10 s
			time.Sleep(time.Hour)
			synctest.Wait()
			ev.mu.Lock()
			defer ev.mu.Unlock()
			if len(ev.warned) != 1 || ev.warned[0].Sub(start) != 20*time.Second {
				t.Errorf("warnings at %v, want one 20s after start", ev.warned)
			}
			if len(ev.expired) != 1 || ev.expired[0].Sub(start) != 30*time.Second {
				t.Errorf("expiries at %v, want one 30s after start", ev.expired)
			}
		})
	})
	t.Run("a new token moves both events", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ev := &events{}
			l := NewLifecycle(5*time.Second, noJitter, ev)
			start := time.Now()
			l.SetToken(30*time.Second, start.Add(30*time.Second))
			time.Sleep(26 * time.Second) // warned at 25 s
			l.SetToken(60*time.Second, time.Now().Add(60*time.Second))
			time.Sleep(time.Hour)
			synctest.Wait()
			ev.mu.Lock()
			defer ev.mu.Unlock()
			want := []time.Duration{25 * time.Second, 26*time.Second + 55*time.Second}
			if len(ev.warned) != 2 || ev.warned[0].Sub(start) != want[0] || ev.warned[1].Sub(start) != want[1] {
				t.Errorf("warnings at %v, want at %v", ev.warned, want)
			}
			if len(ev.expired) != 1 || ev.expired[0].Sub(start) != 86*time.Second {
				t.Errorf("expiries at %v, want one at 86s (the new exp only)", ev.expired)
			}
		})
	})
	t.Run("jitter warns earlier, within the bound", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ev := &events{}
			l := NewLifecycle(time.Minute, func(max time.Duration) time.Duration { return max }, ev)
			start := time.Now()
			l.SetToken(time.Hour, start.Add(time.Hour))
			time.Sleep(2 * time.Hour)
			synctest.Wait()
			ev.mu.Lock()
			defer ev.mu.Unlock()
			if len(ev.warned) != 1 || start.Add(time.Hour).Sub(ev.warned[0]) != 65*time.Second {
				t.Errorf("warned %v before exp, want 65s (lead 60s + jitter at most 5s)", start.Add(time.Hour).Sub(ev.warned[0]))
			}
		})
	})
	t.Run("stop silences it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ev := &events{}
			l := NewLifecycle(time.Minute, noJitter, ev)
			l.SetToken(0, time.Now().Add(30*time.Second))
			l.Stop()
			time.Sleep(time.Hour)
			synctest.Wait()
			ev.mu.Lock()
			defer ev.mu.Unlock()
			if len(ev.warned)+len(ev.expired) != 0 {
				t.Errorf("events after Stop: %+v", ev)
			}
		})
	})
}
