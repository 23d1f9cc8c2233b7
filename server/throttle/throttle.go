// Package throttle limits attempts per key (a client address, a username)
// with one token bucket per key, in a map of bounded size: a key not seen
// lately is evicted first, so an attacker inventing keys cannot grow the
// server's memory. Sign-in uses it to slow password guessing.
//
// An attempt is taken from the bucket before the expensive work (Take), in
// one step under the lock, so that however many attempts arrive together
// no more than the burst get through; an attempt that succeeds is given
// back (Give), so that only failures count.
package throttle

import (
	"container/list"
	"math"
	"net"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the keys a Limiter remembers: about 100 bytes
// each plus the key, so a few megabytes at most.
const DefaultMaxKeys = 10_000

// Limiter allows n attempts per period for each key: a burst of n, refilled
// evenly over the period. It is safe for concurrent use.
type Limiter struct {
	perSecond float64 // refill rate; 0 means off
	burst     float64
	maxKeys   int
	now       func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
}

// bucket is one key's token bucket: tokens as of at.
type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

// refill brings b's tokens up to now, at most to burst.
func (b *bucket) refill(now time.Time, perSecond, burst float64) {
	if now.After(b.at) {
		b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*perSecond)
		b.at = now
	}
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
	l := &Limiter{burst: float64(n), maxKeys: maxKeys, now: now, keys: make(map[string]*list.Element)}
	if n > 0 && period > 0 {
		l.perSecond = float64(n) / period.Seconds()
	}
	return l
}

func (l *Limiter) off() bool { return l == nil || l.perSecond == 0 }

// Take takes one attempt for key if one is left and reports ok; if none
// is, it takes nothing and reports how long until one is.
func (l *Limiter) Take(key string) (wait time.Duration, ok bool) {
	if l.off() {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	b.refill(now, l.perSecond, l.burst)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second)), false
}

// Give returns an attempt taken for key (one that succeeded), up to the
// burst. A key forgotten since has nothing to give back to.
func (l *Limiter) Give(key string) {
	if l.off() {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		b := e.Value.(*bucket)
		b.refill(now, l.perSecond, l.burst)
		b.tokens = min(l.burst, b.tokens+1)
	}
}

// bucket returns key's bucket, creating a full one and evicting the least
// recently used key when the map is full. Callers hold l.mu.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if len(l.keys) >= l.maxKeys {
		// The oldest key has had the longest to refill; forgetting it
		// costs the least.
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.keys, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: l.burst, at: now}
	l.keys[key] = l.lru.PushFront(b)
	return b
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
