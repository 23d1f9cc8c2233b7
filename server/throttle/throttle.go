// Package throttle limits attempts per key (a client address, a username)
// with one token bucket per key, in a map of bounded size: a key not seen
// lately is evicted first, so an attacker inventing keys cannot grow the
// server's memory. Sign-in uses it to slow password guessing.
//
// Only failures count: an attempt is checked before the expensive work
// (Check) and counted when it fails (Fail), so that a successful sign-in
// costs nothing and many users behind one address are not slowed.
package throttle

import (
	"container/list"
	"math"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the keys a Limiter remembers: about 100 bytes
// each plus the key, so a few megabytes at most.
const DefaultMaxKeys = 10_000

// Limiter allows n attempts per period for each key: a burst of n, refilled
// evenly over the period. It is safe for concurrent use.
type Limiter struct {
	every   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
}

type bucket struct {
	key string
	lim *rate.Limiter
}

// New returns a Limiter allowing n attempts per period per key and
// remembering at most maxKeys keys (DefaultMaxKeys when 0). A nil now
// means time.Now. With n or period not positive it allows everything.
func New(n int, period time.Duration, maxKeys int, now func() time.Time) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	l := &Limiter{burst: n, maxKeys: maxKeys, now: now, keys: make(map[string]*list.Element)}
	if n > 0 && period > 0 {
		l.every = rate.Limit(float64(n) / period.Seconds())
	} else {
		l.every = rate.Inf
	}
	return l
}

// Check reports whether key may make an attempt now, and if not, how long
// until it may. It takes nothing: only Fail does. A key never seen is not
// stored.
func (l *Limiter) Check(key string) (wait time.Duration, ok bool) {
	if l == nil || l.every == rate.Inf {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, seen := l.keys[key]
	if !seen {
		return 0, true
	}
	tokens := e.Value.(*bucket).lim.TokensAt(now)
	if tokens >= 1 {
		return 0, true
	}
	return time.Duration((1 - tokens) / float64(l.every) * float64(time.Second)), false
}

// Fail counts a failed attempt against key. Attempts that passed Check
// together (concurrent requests) are all counted: the bucket then goes
// into debt and stays empty for longer, so the rate over time holds
// however the attempts are bunched.
func (l *Limiter) Fail(key string) {
	if l == nil || l.every == rate.Inf {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key).ReserveN(now, 1)
}

// bucket returns key's limiter, creating it and evicting the least
// recently used key when the map is full. Callers hold l.mu.
func (l *Limiter) bucket(key string) *rate.Limiter {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket).lim
	}
	if len(l.keys) >= l.maxKeys {
		// The oldest key has had the longest to refill; forgetting it
		// costs the least.
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.keys, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.every, l.burst)}
	l.keys[key] = l.lru.PushFront(b)
	return b.lim
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// RetryAfter rounds a wait up to whole seconds, at least 1, for the
// Retry-After header.
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// AddressKey is the key of a client address (an http.Request's
// RemoteAddr): the IP for IPv4, and the /64 network for IPv6, since one
// client commonly holds a whole /64.
func AddressKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
