package session

import (
	"strings"
	"sync"
)

// MaxRememberedCookieBytes is the longest cookie value Open remembers.
// Typical values are 200 to 600 bytes; a session with very large grants is
// opened in full every time rather than held in memory.
const MaxRememberedCookieBytes = 1024

// opened remembers the sessions of cookie values that opened. A session
// presents the same value on every renewal and every socket, so a value
// seen before skips base64, AES-GCM and parsing: a quarter of the renewal
// handler's time under figure 2's load (docs/benchmarks.md).
//
// It memoises a pure function of the value and the key, so the cookie
// stays the session's only record: expiry and revocation are checked on
// every use, a restart starts with an empty cache, and a value that failed
// to open is never stored.
type opened struct {
	max int
	mu  sync.RWMutex
	m   map[string]*Session // by cookie value
}

// newOpened returns a cache of at most max sessions, or nil (no cache)
// when max is not positive.
func newOpened(max int) *opened {
	if max <= 0 {
		return nil
	}
	return &opened{max: max, m: make(map[string]*Session)}
}

func (o *opened) get(value string) (Session, bool) {
	if o == nil {
		return Session{}, false
	}
	o.mu.RLock()
	s, ok := o.m[value]
	o.mu.RUnlock()
	if !ok {
		return Session{}, false
	}
	return *s, true
}

func (o *opened) put(value string, s Session) {
	if o == nil || len(value) > MaxRememberedCookieBytes {
		return
	}
	kept := new(Session)
	*kept = s
	// A copy of the value: the caller's may be a slice of a whole Cookie
	// header, which the cache would otherwise keep alive.
	value = strings.Clone(value)
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.m) >= o.max {
		o.shrinkLocked()
	}
	o.m[value] = kept
}

func (o *opened) forget(value string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	delete(o.m, value)
	o.mu.Unlock()
}

// shrinkLocked forgets a quarter of the entries when the cache is full.
// Which ones does not matter much: a forgotten session is opened in full
// on its next use and remembered again.
func (o *opened) shrinkLocked() {
	drop := len(o.m) - o.max*3/4
	for k := range o.m {
		if drop <= 0 {
			break
		}
		delete(o.m, k)
		drop--
	}
}
