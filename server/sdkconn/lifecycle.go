package sdkconn

import (
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/expiry"
)

// Events receives a connection's token events. Calls come from the
// lifecycle's timer goroutine, never with the lifecycle's lock held, so
// implementations must be safe for concurrent use.
type Events interface {
	// AboutToExpire is due at the warning lead before exp.
	AboutToExpire()
	// Expired is due at exp when no newer token came.
	Expired()
}

// Lifecycle times one connection's token on server/expiry, the schedule
// the hub runs its sessions on: the warning at renew.Lead before exp (plus
// the bounded jitter), the expiry at exp, one timer per connection.
// SetToken moves it to a new token. Time comes from time.Now and the
// runtime's timers, which testing/synctest fakes.
type Lifecycle struct {
	rule expiry.Rule
	ev   Events

	mu      sync.Mutex // guards the fields below
	s       expiry.Schedule
	stopped bool
}

// NewLifecycle returns a Lifecycle that warns lead before exp (scaled by
// renew.Lead for short tokens). A nil jitter draws uniformly from
// [0, max].
func NewLifecycle(lead time.Duration, jitter func(max time.Duration) time.Duration, ev Events) *Lifecycle {
	return &Lifecycle{rule: expiry.Rule{Lead: lead, Jitter: jitter}, ev: ev}
}

// SetToken schedules the events of a token expiring at exp, ttl long (the
// token's claims' TTL; zero when the token does not say, and then it is
// counted from now).
func (l *Lifecycle) SetToken(ttl time.Duration, exp time.Time) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.s.Set(l.rule, ttl, exp, now)
	l.armLocked(now)
}

// WarnNow moves the warning to now (it fires at once unless it was sent
// for this token already).
func (l *Lifecycle) WarnNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || !l.s.Has() {
		return
	}
	now := time.Now()
	l.s.Hasten(now)
	l.armLocked(now)
}

// ExpireNow moves the token's expiry to now: Expired fires at once
// (without the warning).
func (l *Lifecycle) ExpireNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || !l.s.Has() {
		return
	}
	now := time.Now()
	l.s.ExpireNow(now)
	l.armLocked(now)
}

// Stop ends the lifecycle; no event fires after it returns, except one
// already running.
func (l *Lifecycle) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	l.s.Stop()
}

// armLocked sets the timer for the next event, if one is left. Callers
// hold l.mu.
func (l *Lifecycle) armLocked(now time.Time) {
	if at, ok := l.s.Next(); ok {
		l.s.Arm(now, at, l.fire)
	}
}

// fire runs on the timer and sends what is due.
func (l *Lifecycle) fire() {
	now := time.Now()
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	ev := l.s.Due(now)
	l.armLocked(now)
	l.mu.Unlock()
	switch ev {
	case expiry.Warn:
		l.ev.AboutToExpire()
	case expiry.Expire:
		l.ev.Expired()
	}
}
