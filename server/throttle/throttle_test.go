package throttle_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/throttle"
)

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func TestBurstThenRefill(t *testing.T) {
	c := newClock()
	l := throttle.New(5, time.Minute, 0, c.now)
	for i := range 5 {
		if _, ok := l.Check("susan"); !ok {
			t.Fatalf("attempt %d refused within the burst of 5", i+1)
		}
		l.Fail("susan")
	}
	wait, ok := l.Check("susan")
	if ok || wait != 12*time.Second {
		t.Fatalf("6th attempt: ok=%v wait=%v; want refused for 12s (a minute / 5)", ok, wait)
	}
	if _, ok := l.Check("bob"); !ok {
		t.Error("another key is limited by susan's failures")
	}
	c.add(11 * time.Second)
	if _, ok := l.Check("susan"); ok {
		t.Error("allowed before the refill")
	}
	c.add(time.Second)
	if _, ok := l.Check("susan"); !ok {
		t.Fatal("refused after the refill")
	}
	l.Fail("susan")
	if _, ok := l.Check("susan"); ok {
		t.Error("one refill allowed two attempts")
	}
}

// Successes are never counted: only Fail takes from the bucket.
func TestChecksAloneCostNothing(t *testing.T) {
	l := throttle.New(1, time.Hour, 0, newClock().now)
	for range 100 {
		if _, ok := l.Check("susan"); !ok {
			t.Fatal("Check alone used up the bucket")
		}
	}
	if l.Len() != 0 {
		t.Errorf("Check stored %d keys; only failures should be remembered", l.Len())
	}
}

// Failures that passed Check together are all counted: the bucket goes
// into debt, so the long-run rate holds.
func TestConcurrentFailuresAreRepaid(t *testing.T) {
	c := newClock()
	l := throttle.New(5, time.Minute, 0, c.now)
	for range 15 { // all passed Check before any failed
		l.Fail("mallory")
	}
	wait, ok := l.Check("mallory")
	if ok || wait != 11*12*time.Second {
		t.Errorf("after 15 failures on a burst of 5: wait %v, want 11 refills (2m12s)", wait)
	}
}

func TestKeysAreBounded(t *testing.T) {
	c := newClock()
	l := throttle.New(1, time.Hour, 3, c.now)
	for _, k := range []string{"a", "b", "c"} {
		l.Fail(k)
	}
	l.Fail("a") // a is now the most recently used
	l.Fail("d") // evicts b, the least recently used
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want the bound 3", l.Len())
	}
	if _, ok := l.Check("b"); !ok {
		t.Error("b should have been forgotten")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := l.Check(k); ok {
			t.Errorf("%s was forgotten, want b (the least recently used) evicted", k)
		}
	}
	// An attacker inventing keys cannot grow the map.
	big := throttle.New(1, time.Hour, 1000, c.now)
	for i := range 100_000 {
		big.Fail(fmt.Sprint("user", i))
	}
	if big.Len() != 1000 {
		t.Errorf("after 100 000 keys Len = %d, want 1000", big.Len())
	}
}

func TestOffAllowsEverything(t *testing.T) {
	for _, l := range []*throttle.Limiter{throttle.New(0, time.Minute, 0, nil), throttle.New(5, 0, 0, nil), nil} {
		for range 10 {
			l.Fail("x")
		}
		if _, ok := l.Check("x"); !ok {
			t.Error("a limiter that is off refused")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	l := throttle.New(3, time.Minute, 50, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint(g, i%100)
				l.Check(k)
				l.Fail(k)
			}
		})
	}
	wg.Wait()
	if l.Len() > 50 {
		t.Errorf("Len = %d over the bound 50", l.Len())
	}
}

func TestAddressKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7:51234", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:80", "2001:db8:1:2::/64"},
		{"[::1]:80", "::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := throttle.AddressKey(tt.in); got != tt.want {
			t.Errorf("AddressKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {12 * time.Second, 12}} {
		if got := throttle.RetryAfter(tt.d); got != tt.want {
			t.Errorf("RetryAfter(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
