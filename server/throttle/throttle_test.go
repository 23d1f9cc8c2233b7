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
	l := throttle.New(3, 30*time.Second, 0, c.now) // one attempt back every 10 s
	for i := range 3 {
		if _, ok := l.Take("susan"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	wait, ok := l.Take("susan")
	if ok || wait != 10*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if _, ok := l.Take("bob"); !ok {
		t.Error("another key was refused")
	}
	c.add(9 * time.Second)
	if _, ok := l.Take("susan"); ok {
		t.Error("refilled too early")
	}
	c.add(time.Second)
	if _, ok := l.Take("susan"); !ok {
		t.Error("not refilled after 10 s")
	}
	if _, ok := l.Take("susan"); ok {
		t.Error("one refill allowed two attempts")
	}
}

// An attempt given back (a success) leaves the bucket as it was, and
// never fills it past the burst.
func TestGiveReturnsTheAttempt(t *testing.T) {
	c := newClock()
	l := throttle.New(2, time.Hour, 0, c.now)
	for i := range 50 {
		if _, ok := l.Take("susan"); !ok {
			t.Fatalf("attempt %d refused though every one was given back", i+1)
		}
		l.Give("susan")
	}
	l.Give("susan") // nothing taken: stays at the burst
	for range 2 {
		if _, ok := l.Take("susan"); !ok {
			t.Fatal("the burst was not left whole")
		}
	}
	if _, ok := l.Take("susan"); ok {
		t.Error("Give filled the bucket past its burst")
	}
}

// Attempts arriving together cannot overdraw a key: exactly the burst is
// taken however many race for it.
func TestConcurrentTakesStopAtTheBurst(t *testing.T) {
	l := throttle.New(10, time.Hour, 0, newClock().now)
	const racers = 60
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range racers {
		wg.Go(func() {
			<-start
			if _, ok := l.Take("mallory"); ok {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if taken != 10 {
		t.Errorf("%d of %d concurrent attempts taken, want the burst 10", taken, racers)
	}
}

func TestKeysAreBounded(t *testing.T) {
	c := newClock()
	l := throttle.New(1, time.Hour, 3, c.now)
	for _, k := range []string{"a", "b", "c"} {
		l.Take(k)
	}
	l.Take("a") // a is now the most recently used
	l.Take("d") // evicts b, the least recently used
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want the bound 3", l.Len())
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := l.Take(k); ok {
			t.Errorf("%s was forgotten, want b (the least recently used) evicted", k)
		}
	}
	if _, ok := l.Take("b"); !ok {
		t.Error("b should have been forgotten")
	}
	// An attacker inventing keys cannot grow the map.
	big := throttle.New(1, time.Hour, 1000, c.now)
	for i := range 100_000 {
		big.Take(fmt.Sprint("user", i))
	}
	if big.Len() != 1000 {
		t.Errorf("after 100 000 keys Len = %d, want 1000", big.Len())
	}
}

func TestOffAllowsEverything(t *testing.T) {
	for _, l := range []*throttle.Limiter{throttle.New(0, time.Minute, 0, nil), throttle.New(5, 0, 0, nil), nil} {
		for range 10 {
			if _, ok := l.Take("x"); !ok {
				t.Fatal("a limiter that is off refused")
			}
		}
		l.Give("x")
	}
}

func TestConcurrentUse(t *testing.T) {
	l := throttle.New(3, time.Minute, 50, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint(g, i%100)
				if _, ok := l.Take(k); ok && i%2 == 0 {
					l.Give(k)
				}
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
