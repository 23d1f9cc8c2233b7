package renew

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestFallbackLeadFollowsServerWarning(t *testing.T) {
	for _, lead := range []time.Duration{time.Second, 2 * time.Second, time.Minute} {
		latestWarning := lead + MaxJitter(lead)
		if fb := FallbackLead(lead); fb <= 0 || fb >= lead || fb >= latestWarning {
			t.Errorf("FallbackLead(%v) = %v, want in (0, %v)", lead, fb, lead)
		}
	}
}

func TestNear(t *testing.T) {
	exp := time.Unix(1000, 0)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"well before the lead", exp.Add(-time.Minute), false},
		{"just before the lead", exp.Add(-11 * time.Second), false},
		{"at the lead", exp.Add(-10 * time.Second), true},
		{"inside the lead", exp.Add(-time.Second), true},
		{"past expiry", exp.Add(time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Near(tt.now, exp, 10*time.Second); got != tt.want {
				t.Errorf("Near(exp%+v) = %v, want %v", tt.now.Sub(exp), got, tt.want)
			}
		})
	}
}

// receive waits for the scheduler to fire, failing if it has not within
// limit (fake time inside a synctest bubble).
func receive(t *testing.T, s *Scheduler, limit time.Duration) {
	t.Helper()
	select {
	case <-s.C:
	case <-time.After(limit):
		t.Fatalf("scheduler did not fire within %v", limit)
	}
}

func quiet(t *testing.T, s *Scheduler, d time.Duration) {
	t.Helper()
	select {
	case <-s.C:
		t.Fatalf("scheduler fired, want nothing for %v", d)
	case <-time.After(d):
	}
}

func TestSchedulerFiresAtFallbackLead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := NewScheduler(time.Now, 0)
		defer s.Close()
		exp := start.Add(5 * time.Second)
		lead := Lead(5*time.Second, DefaultLead)
		s.Arm(exp, lead)
		if want := exp.Add(-FallbackLead(lead)); !s.Due().Equal(want) {
			t.Errorf("Due() = %v, want %v", s.Due(), want)
		}
		receive(t, s, time.Minute)
		if got, want := time.Since(start), 5*time.Second-FallbackLead(lead); got != want {
			t.Errorf("fired after %v, want %v", got, want)
		}
		if !s.Due().IsZero() {
			t.Errorf("Due() = %v after firing, want zero", s.Due())
		}
		quiet(t, s, time.Hour) // fires once per Arm
	})
}

func TestSchedulerRearmReplaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := NewScheduler(time.Now, 0)
		defer s.Close()
		s.ArmAt(start.Add(2 * time.Second))
		time.Sleep(time.Second)
		s.ArmAt(start.Add(10 * time.Second)) // a renewal moved expiry
		receive(t, s, time.Minute)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("fired after %v, want 10s", got)
		}
		s.ArmAt(time.Now().Add(time.Second))
		s.Disarm()
		quiet(t, s, time.Hour)
		if !s.Due().IsZero() {
			t.Errorf("Due() = %v after Disarm, want zero", s.Due())
		}
	})
}

func TestSchedulerPastDueFiresAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(time.Now, 0)
		defer s.Close()
		start := time.Now()
		s.ArmAt(start.Add(-time.Minute))
		receive(t, s, time.Minute)
		if got := time.Since(start); got != 0 {
			t.Errorf("fired after %v, want at once", got)
		}
	})
}

// The scheduler follows the clock it is given, not its own timers: when the
// clock jumps (a laptop wakes, a better server offset arrives), the renewal
// fires at the next check rather than when the original sleep would end.
func TestSchedulerFollowsClockJumps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var jump atomic.Int64 // read by the scheduler's goroutine
		clock := func() time.Time { return time.Now().Add(time.Duration(jump.Load())) }
		start := clock()
		s := NewScheduler(clock, 5*time.Second)
		defer s.Close()
		s.ArmAt(start.Add(time.Hour))
		time.Sleep(7 * time.Second)
		jump.Store(int64(time.Hour)) // the machine slept for an hour
		receive(t, s, time.Minute)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("fired %v after start, want at the second check (10s)", got)
		}
	})
}

// SetMinDelay emulates a throttled page: the fallback fires late, which is
// why the page must not depend on it alone.
func TestSchedulerMinDelayThrottles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(time.Now, 0)
		defer s.Close()
		s.SetMinDelay(time.Minute)
		start := time.Now()
		s.ArmAt(start.Add(time.Second))
		receive(t, s, 2*time.Minute)
		if got := time.Since(start); got != time.Minute {
			t.Errorf("throttled fire after %v, want 1m", got)
		}
		s.SetMinDelay(0)
		start = time.Now()
		s.ArmAt(start.Add(time.Second))
		receive(t, s, time.Minute)
		if got := time.Since(start); got != time.Second {
			t.Errorf("unthrottled fire after %v, want 1s", got)
		}
	})
}

func TestSchedulerCloseStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(time.Now, 0)
		s.ArmAt(time.Now().Add(time.Second))
		s.Close()
		s.Close()
		synctest.Wait() // the goroutine must have exited, or the bubble would report it
		quiet(t, s, time.Minute)
	})
}
