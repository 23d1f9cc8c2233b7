// Package expiry times the notices of a token: the warning at the lead
// before exp (renew.Lead's scaling of the configured lead, plus a bounded
// jitter so that tokens minted together are not all renewed at once) and
// the expiry at exp, on one timer per owner. The hub's sessions (the page's
// "expiring" and "expired") and the Twilio SDK connections
// (tokenAboutToExpire, and the close that reads as tokenExpired) both run
// on it, so the rule has one implementation.
//
// A Schedule does no locking: its owner guards it with its own lock, and
// the owner's fire callback, which runs on the timer's goroutine, takes
// that lock and asks Due what is due. Time is passed in, and the timer is
// the runtime's, which testing/synctest fakes.
package expiry

import (
	"math/rand/v2"
	"time"

	"github.com/tokenlab/tokenlab/shared/renew"
)

// Rule is how far ahead of exp the warning comes.
type Rule struct {
	// Lead is the configured lead; renew.Lead scales it down for short
	// tokens.
	Lead time.Duration
	// Jitter returns a random duration in [0, max], added to the lead;
	// UniformJitter when nil.
	Jitter func(max time.Duration) time.Duration
}

// UniformJitter draws uniformly from [0, max].
func UniformJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max + 1)
}

// lead is the lead of a token of ttl, jitter included.
func (r Rule) lead(ttl time.Duration) time.Duration {
	jitter := r.Jitter
	if jitter == nil {
		jitter = UniformJitter
	}
	lead := renew.Lead(ttl, r.Lead)
	return lead + jitter(renew.MaxJitter(lead))
}

// Event is a notice a Schedule finds due.
type Event int

// The events of a token.
const (
	None   Event = iota
	Warn         // the lead before exp was reached
	Expire       // exp was reached
)

// Schedule is one owner's current token, what has been sent about it, and
// the owner's one timer. The zero value has no token.
type Schedule struct {
	exp, warnAt     time.Time
	lead            time.Duration // the lead in use, jitter included
	has             bool
	warned, expired bool
	stopped         bool
	timer           *time.Timer
}

// Set makes the token expiring at exp, ttl long (exp − now when ttl is not
// positive: the token's start is unknown), the current one; nothing is sent
// about it yet. Arm the timer afterwards.
func (s *Schedule) Set(r Rule, ttl time.Duration, exp, now time.Time) {
	if ttl <= 0 {
		ttl = exp.Sub(now)
	}
	s.has, s.exp = true, exp
	s.lead = r.lead(ttl)
	s.warnAt = exp.Add(-s.lead)
	s.warned, s.expired = false, false
}

// Has reports whether a token was set.
func (s *Schedule) Has() bool { return s.has }

// Exp is the current token's expiry.
func (s *Schedule) Exp() time.Time { return s.exp }

// Lead is the warning's lead for the current token, jitter included.
func (s *Schedule) Lead() time.Duration { return s.lead }

// WarnAt is when the warning is due.
func (s *Schedule) WarnAt() time.Time { return s.warnAt }

// Warned reports whether the warning (or the expiry) was sent.
func (s *Schedule) Warned() bool { return s.warned }

// Expired reports whether the expiry was sent.
func (s *Schedule) Expired() bool { return s.expired }

// Next is when the next event is due; false when none is left.
func (s *Schedule) Next() (time.Time, bool) {
	switch {
	case !s.has || s.expired:
		return time.Time{}, false
	case !s.warned && s.warnAt.Before(s.exp):
		return s.warnAt, true
	}
	return s.exp, true
}

// Due returns the event due at now and records it as sent. It works from
// the clock, so a stale or early firing finds None. An expiry counts as
// the warning too: a token found expired is not warned about afterwards.
func (s *Schedule) Due(now time.Time) Event {
	switch {
	case !s.has || s.expired:
		return None
	case !now.Before(s.exp):
		s.expired, s.warned = true, true
		return Expire
	case !s.warned && !now.Before(s.warnAt):
		s.warned = true
		return Warn
	}
	return None
}

// Hasten moves the warning to now if it was due later (the lab's warn
// now, and a token the next renewal must replace).
func (s *Schedule) Hasten(now time.Time) {
	if s.warnAt.After(now) {
		s.warnAt = now
	}
}

// ExpireNow moves exp to now: the expiry is due at once, without the
// warning.
func (s *Schedule) ExpireNow(now time.Time) {
	if !s.has || s.expired {
		return
	}
	s.exp, s.warned = now, true
}

// Mark records ev as sent by the owner itself (the lab's notices).
func (s *Schedule) Mark(ev Event) {
	switch ev {
	case Expire:
		s.expired = true
		s.warned = true
	case Warn:
		s.warned = true
	}
}

// Arm sets the owner's one timer to call fire at at (at once if at has
// passed): created on first use, moved afterwards. It does nothing after
// Stop.
func (s *Schedule) Arm(now, at time.Time, fire func()) {
	if s.stopped {
		return
	}
	d := max(at.Sub(now), 0)
	if s.timer == nil {
		s.timer = time.AfterFunc(d, fire)
	} else {
		s.timer.Reset(d)
	}
}

// Stop stops the timer for good; a firing already under way still runs,
// and its owner checks whether it is still in service.
func (s *Schedule) Stop() {
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
}
