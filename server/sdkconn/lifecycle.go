package sdkconn

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/shared/renew"
)

// Events receives a connection's token events. Calls come from the
// lifecycle's timer goroutines, never with the lifecycle's lock held, so
// implementations must be safe for concurrent use.
type Events interface {
	// AboutToExpire is due at the warning lead before exp.
	AboutToExpire()
	// Expired is due at exp when no newer token came.
	Expired()
}

// Lifecycle times one connection's token: the warning at renew.Lead before
// exp (less a bounded jitter, as the hub does for the page's sessions) and
// the expiry at exp. It holds one timer; SetToken moves it to a new token.
// Time comes from time.Now and the runtime's timers, which
// testing/synctest fakes.
//
// The rule is the hub's (renew.Lead, renew.MaxJitter, one timer per owner);
// the hub's own timer code is tied to its session entries, so it is not
// shared yet.
type Lifecycle struct {
	lead   time.Duration
	jitter func(max time.Duration) time.Duration
	ev     Events

	mu      sync.Mutex // guards the fields below
	exp     time.Time
	warnAt  time.Time
	warned  bool
	expired bool
	stopped bool
	timer   *time.Timer
}

// NewLifecycle returns a Lifecycle that warns lead before exp (scaled by
// renew.Lead for short tokens). A nil jitter draws uniformly from
// [0, max].
func NewLifecycle(lead time.Duration, jitter func(max time.Duration) time.Duration, ev Events) *Lifecycle {
	if jitter == nil {
		jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max + 1)
		}
	}
	return &Lifecycle{lead: lead, jitter: jitter, ev: ev}
}

// SetToken schedules the events of a token valid from nbf to exp (nbf zero
// when the token has none: then the ttl is counted from now).
func (l *Lifecycle) SetToken(nbf, exp time.Time) {
	now := time.Now()
	from := nbf
	if from.IsZero() || from.After(now) {
		from = now
	}
	lead := renew.Lead(exp.Sub(from), l.lead)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.exp = exp
	l.warnAt = exp.Add(-lead - l.jitter(renew.MaxJitter(lead)))
	l.warned, l.expired = false, false
	l.scheduleLocked(now)
}

// WarnNow moves the warning to now (it fires at once unless it was sent
// for this token already).
func (l *Lifecycle) WarnNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || l.exp.IsZero() {
		return
	}
	l.warnAt = time.Now()
	l.scheduleLocked(l.warnAt)
}

// Stop ends the lifecycle; no event fires after it returns, except one
// already running.
func (l *Lifecycle) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
}

// scheduleLocked arms the one timer for the next event. Callers hold l.mu.
func (l *Lifecycle) scheduleLocked(now time.Time) {
	if l.expired {
		return
	}
	next := l.exp
	if !l.warned && l.warnAt.Before(next) {
		next = l.warnAt
	}
	d := max(next.Sub(now), 0)
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.fire)
	} else {
		l.timer.Reset(d)
	}
}

// fire runs on the timer. It works out from the clock which event is due,
// so a stale firing does no harm.
func (l *Lifecycle) fire() {
	now := time.Now()
	l.mu.Lock()
	if l.stopped || l.expired {
		l.mu.Unlock()
		return
	}
	var event func()
	switch {
	case !now.Before(l.exp):
		l.expired, l.warned = true, true
		event = l.ev.Expired
	case !l.warned && !now.Before(l.warnAt):
		l.warned = true
		event = l.ev.AboutToExpire
	}
	l.scheduleLocked(now)
	l.mu.Unlock()
	if event != nil {
		event()
	}
}
