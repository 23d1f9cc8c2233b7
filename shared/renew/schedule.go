package renew

import (
	"sync"
	"time"
)

// FallbackLead is how long before expiry the page renews on its own when
// the server's warning has not arrived. It is half the warning lead, so it
// falls after the server's latest warning (lead+MaxJitter before expiry):
// normally the push wins and the page's timer never fires, yet a lost push
// still leaves half the lead to renew in.
func FallbackLead(lead time.Duration) time.Duration { return lead / 2 }

// Near reports whether a token expiring at exp should be renewed now: it is
// within lead of expiry, or past it. The page asks this whenever it may have
// missed time (it becomes visible, comes back online, gets focus, reconnects).
func Near(now, exp time.Time, lead time.Duration) bool {
	return !now.Before(exp.Add(-lead))
}

// Clock returns the current time. It is a named type on purpose: in the
// browser build, a field of the unnamed type func() time.Time would let the
// linker see time.Time as used through interfaces (through token.Claims'
// methods) and keep all of time.Time's methods, Go's time parser among
// them, at a cost of about 25 KB of compressed download.
type Clock func() time.Time

// DefaultCheckEvery bounds how long the scheduler sleeps before looking at
// the wall clock again. A timer armed for "in ten minutes" does not fire on
// time after a laptop sleeps; waking every few seconds and comparing the
// wall clock with the due time does.
const DefaultCheckEvery = 5 * time.Second

// Scheduler is the page's own renewal timer, the fallback behind the
// server's "expiring" push. It compares due times with a clock the caller
// passes in (the page passes server time: local clock plus measured offset),
// and sends on C when a renewal is due. C has room for one value, so a
// renewal that is already waiting absorbs later ones.
type Scheduler struct {
	// C receives when the page should renew. It carries no time.Time (see
	// run); Due tells the time that was due before C fired.
	C <-chan struct{}

	c          chan struct{}
	now        Clock
	checkEvery time.Duration
	wake       chan struct{}
	done       chan struct{}
	closeOnce  sync.Once

	mu       sync.Mutex
	due      time.Time // zero when disarmed
	minDelay time.Duration
}

// NewScheduler starts a disarmed scheduler. now is the clock to compare due
// times with; checkEvery (DefaultCheckEvery when zero or less) bounds each
// sleep. Close stops it.
func NewScheduler(now Clock, checkEvery time.Duration) *Scheduler {
	if checkEvery <= 0 {
		checkEvery = DefaultCheckEvery
	}
	c := make(chan struct{}, 1)
	s := &Scheduler{
		C:          c,
		c:          c,
		now:        now,
		checkEvery: checkEvery,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	go s.run()
	return s
}

// Arm schedules the fallback renewal for a token expiring at exp whose
// warning lead is lead, replacing any earlier schedule.
func (s *Scheduler) Arm(exp time.Time, lead time.Duration) {
	s.ArmAt(exp.Add(-FallbackLead(lead)))
}

// ArmAt schedules a renewal at due (a time on the scheduler's clock),
// replacing any earlier schedule. A due time in the past fires at once.
func (s *Scheduler) ArmAt(due time.Time) {
	if due.IsZero() {
		due = time.Unix(0, 1) // zero means disarmed; "long ago" fires at once
	}
	s.set(func() { s.due = due })
}

// Disarm cancels the pending renewal, if any.
func (s *Scheduler) Disarm() { s.set(func() { s.due = time.Time{} }) }

// Due returns the pending due time, or the zero time when disarmed.
func (s *Scheduler) Due() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.due
}

// SetMinDelay makes every sleep last at least d, the way a browser throttles
// the timers of a hidden page (at most once a second, or once a minute after
// five hidden minutes). Tests use it to show what the page does when its own
// timers are late; zero restores normal timing.
func (s *Scheduler) SetMinDelay(d time.Duration) { s.set(func() { s.minDelay = d }) }

// Close stops the scheduler. It is safe to call more than once.
func (s *Scheduler) Close() { s.closeOnce.Do(func() { close(s.done) }) }

func (s *Scheduler) set(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run sleeps until the next look at the clock. It uses time.AfterFunc, not
// a Timer's channel: in the browser build, any time.Time channel makes the
// linker keep all of time.Time's methods (see Clock). A stale wake-up from a
// stopped timer is harmless, since fireIfDue checks the clock itself.
func (s *Scheduler) run() {
	fired := make(chan struct{}, 1)
	var timer *time.Timer
	stop := func() {
		if timer != nil {
			timer.Stop()
		}
	}
	defer stop()
	for {
		armed := false
		if wait, ok := s.next(); ok {
			armed = true
			stop()
			timer = time.AfterFunc(wait, func() {
				select {
				case fired <- struct{}{}:
				default:
				}
			})
		}
		select {
		case <-fired:
			if armed {
				s.fireIfDue()
			}
		case <-s.wake:
			stop()
		case <-s.done:
			return
		}
	}
}

// next returns how long to sleep before looking again, and whether the
// scheduler is armed at all. A due time already passed fires here, unless
// timers are throttled: then, as in a throttled page, even an immediate
// timer waits out the minimum delay.
func (s *Scheduler) next() (time.Duration, bool) {
	s.mu.Lock()
	due, minDelay := s.due, s.minDelay
	s.mu.Unlock()
	if due.IsZero() {
		return 0, false
	}
	// Round(0) drops the monotonic reading: after a sleep, the wall clock is
	// the one that tells how much time really passed.
	wait := due.Sub(s.now().Round(0))
	if wait <= 0 && minDelay == 0 {
		s.fireIfDue()
		return s.next()
	}
	if wait > s.checkEvery {
		wait = s.checkEvery
	}
	if wait < minDelay {
		wait = minDelay
	}
	return wait, true
}

func (s *Scheduler) fireIfDue() {
	s.mu.Lock()
	due := s.due
	fire := !due.IsZero() && !s.now().Round(0).Before(due)
	if fire {
		s.due = time.Time{}
	}
	s.mu.Unlock()
	if fire {
		select {
		case s.c <- struct{}{}:
		default: // a renewal is already waiting to be taken
		}
	}
}
