package expiry_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/server/expiry"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// owner is the smallest owner of a Schedule: a lock, and a record of what
// fired when, on the fake clock.
type owner struct {
	mu     sync.Mutex
	s      expiry.Schedule
	fired  []expiry.Event
	at     []time.Duration
	start  time.Time
	extras int // firings that found nothing due
}

func (o *owner) arm(now time.Time) {
	if at, ok := o.s.Next(); ok {
		o.s.Arm(now, at, o.fire)
	}
}

func (o *owner) fire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	switch ev := o.s.Due(now); ev {
	case expiry.None:
		o.extras++
	default:
		o.fired = append(o.fired, ev)
		o.at = append(o.at, now.Sub(o.start))
	}
	o.arm(now)
}

func (o *owner) set(r expiry.Rule, ttl time.Duration, exp time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	o.s.Set(r, ttl, exp, now)
	o.arm(now)
}

func noJitter(time.Duration) time.Duration { return 0 }

func TestScheduleTimes(t *testing.T) {
	tests := []struct {
		name     string
		rule     expiry.Rule
		ttl      time.Duration // passed to Set; 0: counted from now
		life     time.Duration // exp − now
		warnAt   time.Duration
		expireAt time.Duration
	}{
		{"long token keeps the lead", expiry.Rule{Lead: time.Minute, Jitter: noJitter}, time.Hour, time.Hour, 59 * time.Minute, time.Hour},
		{"short token warns at a third", expiry.Rule{Lead: time.Minute, Jitter: noJitter}, 30 * time.Second, 30 * time.Second, 20 * time.Second, 30 * time.Second},
		{"unknown ttl counts from now", expiry.Rule{Lead: time.Minute, Jitter: noJitter}, 0, 30 * time.Second, 20 * time.Second, 30 * time.Second},
		{"a token met late keeps its ttl's lead", expiry.Rule{Lead: time.Minute, Jitter: noJitter}, 60 * time.Second, 30 * time.Second, 10 * time.Second, 30 * time.Second},
		{"a token met past its lead warns at once", expiry.Rule{Lead: time.Minute, Jitter: noJitter}, 60 * time.Second, 10 * time.Second, 0, 10 * time.Second},
		{"jitter widens the lead, bounded", expiry.Rule{Lead: time.Minute, Jitter: func(max time.Duration) time.Duration { return max }},
			time.Hour, time.Hour, time.Hour - time.Minute - renew.MaxJitter(time.Minute), time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := &owner{start: time.Now()}
				o.set(tt.rule, tt.ttl, o.start.Add(tt.life))
				time.Sleep(2 * tt.life)
				synctest.Wait()
				o.mu.Lock()
				defer o.mu.Unlock()
				want := []time.Duration{tt.warnAt, tt.expireAt}
				if len(o.fired) != 2 || o.fired[0] != expiry.Warn || o.fired[1] != expiry.Expire || o.at[0] != want[0] || o.at[1] != want[1] {
					t.Errorf("fired %v at %v, want warn then expire at %v", o.fired, o.at, want)
				}
			})
		})
	}
}

func TestScheduleOrders(t *testing.T) {
	rule := expiry.Rule{Lead: 10 * time.Second, Jitter: noJitter}
	t.Run("a new token replaces both events", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Minute, o.start.Add(time.Minute))
			time.Sleep(55 * time.Second) // warned at 50 s
			o.set(rule, time.Minute, time.Now().Add(time.Minute))
			time.Sleep(time.Hour)
			synctest.Wait()
			o.mu.Lock()
			defer o.mu.Unlock()
			want := []time.Duration{50 * time.Second, 105 * time.Second, 115 * time.Second}
			if len(o.at) != 3 || o.at[0] != want[0] || o.at[1] != want[1] || o.at[2] != want[2] {
				t.Errorf("fired %v at %v, want warn, warn, expire at %v", o.fired, o.at, want)
			}
		})
	})
	t.Run("hasten warns now, once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Hour, o.start.Add(time.Hour))
			time.Sleep(time.Minute)
			for range 2 {
				o.mu.Lock()
				o.s.Hasten(time.Now())
				o.arm(time.Now())
				o.mu.Unlock()
				synctest.Wait()
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.fired) != 1 || o.fired[0] != expiry.Warn || o.at[0] != time.Minute {
				t.Errorf("fired %v at %v, want one warning at 1m", o.fired, o.at)
			}
		})
	})
	t.Run("expire now skips the warning and ends the token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Hour, o.start.Add(time.Hour))
			time.Sleep(time.Minute)
			o.mu.Lock()
			o.s.ExpireNow(time.Now())
			o.arm(time.Now())
			o.mu.Unlock()
			time.Sleep(2 * time.Hour)
			synctest.Wait()
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.fired) != 1 || o.fired[0] != expiry.Expire || o.at[0] != time.Minute {
				t.Errorf("fired %v at %v, want one expiry at 1m", o.fired, o.at)
			}
			if _, ok := o.s.Next(); ok {
				t.Error("Next after the expiry has an event")
			}
		})
	})
	t.Run("mark stands for a notice the owner sent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Hour, o.start.Add(time.Hour))
			o.mu.Lock()
			o.s.Mark(expiry.Warn)
			o.arm(time.Now())
			o.mu.Unlock()
			time.Sleep(2 * time.Hour)
			synctest.Wait()
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.fired) != 1 || o.fired[0] != expiry.Expire {
				t.Errorf("fired %v, want only the expiry (the warning was marked sent)", o.fired)
			}
		})
	})
	t.Run("stop silences the timer for good", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Minute, o.start.Add(time.Minute))
			o.mu.Lock()
			o.s.Stop()
			o.arm(time.Now()) // an owner racing with its own stop
			o.mu.Unlock()
			time.Sleep(time.Hour)
			synctest.Wait()
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.fired)+o.extras != 0 {
				t.Errorf("fired %v after Stop", o.fired)
			}
		})
	})
	t.Run("an early firing finds nothing due", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			o := &owner{start: time.Now()}
			o.set(rule, time.Hour, o.start.Add(time.Hour))
			o.mu.Lock()
			o.s.Arm(time.Now(), time.Now(), o.fire) // a stale timer
			o.mu.Unlock()
			synctest.Wait()
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.fired) != 0 || o.extras != 1 {
				t.Errorf("an early firing sent %v", o.fired)
			}
		})
	})
}
