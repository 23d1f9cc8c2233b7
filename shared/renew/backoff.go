package renew

import "time"

// Backoff spaces out retries (reconnecting the socket, a failed renewal)
// with exponential growth and full jitter: every delay is drawn uniformly
// from [0, min(Max, Base·2^attempt)), so clients that failed together do not
// come back together.
type Backoff struct {
	Base time.Duration // ceiling of the first delay
	Max  time.Duration // the ceiling never grows past this
}

// ReconnectBackoff is the page's socket reconnect policy (centrifuge-js uses
// 0.5–20 s with full jitter).
var ReconnectBackoff = Backoff{Base: 500 * time.Millisecond, Max: 20 * time.Second}

// RetryBackoff spaces failed renewals. Its ceiling is low because a token
// that is about to expire cannot wait long; Retry also caps it by the time
// left.
var RetryBackoff = Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}

// Ceiling returns the upper bound of the attempt-th delay (attempt 0 is the
// first retry).
func (b Backoff) Ceiling(attempt int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	c := b.Base
	for i := 0; i < attempt && c < b.Max; i++ {
		c *= 2
	}
	if b.Max > 0 && c > b.Max {
		c = b.Max
	}
	return c
}

// Delay returns the attempt-th delay. rnd returns a number in [0, 1), as
// math/rand/v2's Float64 does; it is passed in so tests can pin it.
func (b Backoff) Delay(attempt int, rnd func() float64) time.Duration {
	r := rnd()
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * float64(b.Ceiling(attempt)))
}

// MinRetry is the shortest wait before retrying a failed renewal. A
// quarter of the time left shrinks toward nothing as expiry nears, and a
// client whose requests fail at once (offline) would otherwise retry
// thousands of times in its token's last milliseconds.
const MinRetry = 100 * time.Millisecond

// RetryDelay is the wait before the attempt-th retry of a failed renewal of
// a token with remaining time left: a RetryBackoff delay, but never more
// than a quarter of what is left, so several retries still fit before
// expiry, and never less than MinRetry. A token already expired is retried
// at the backoff pace.
func RetryDelay(attempt int, remaining time.Duration, rnd func() float64) time.Duration {
	d := RetryBackoff.Delay(attempt, rnd)
	if q := remaining / 4; remaining > 0 && d > q {
		d = q
	}
	return max(d, MinRetry)
}
