package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkMint-2            	  479834	      2510 ns/op	     504 B/op	       3 allocs/op
BenchmarkMint-2            	  451484	      2565 ns/op	     504 B/op	       3 allocs/op
BenchmarkMint-2            	  462028	      9999 ns/op	     504 B/op	       3 allocs/op
BenchmarkMintMapClaims-2   	   65937	     17594 ns/op	    5272 B/op	      59 allocs/op
PASS`
	got := parseGoBench(out)
	if m := got["BenchmarkMint"]; m.runs != 3 || m.nsPerOp != 2565 || m.allocs != 3 || m.bPerOp != 504 {
		t.Errorf("BenchmarkMint = %+v, want 3 runs, median 2565 ns, 3 allocs, 504 B", m)
	}
	if m := got["BenchmarkMintMapClaims"]; m.runs != 1 || m.nsPerOp != 17594 || m.allocs != 59 {
		t.Errorf("BenchmarkMintMapClaims = %+v", m)
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, raw, body string
		status          int
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhelloNEXT", "hello", 200},
		{"chunked", "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT", "abcde", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.raw))
			status, body, err := readResponse(r, nil, nil)
			if err != nil || status != tt.status || string(body) != tt.body {
				t.Fatalf("got %d %q %v, want %d %q", status, body, err, tt.status, tt.body)
			}
			if rest, _ := r.ReadString(0); rest != "NEXT" {
				t.Errorf("left %q unread, want the next response", rest)
			}
		})
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\n\r\n")), nil, nil); err == nil {
		t.Error("a response without framing was accepted")
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 0: 1} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
}

func TestStalledFor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	ticks := []canaryTick{
		{due: ms(10), at: ms(10).Add(200 * time.Microsecond)},
		{due: ms(20), at: ms(320)}, // the process stalled for 300 ms
		{due: ms(330), at: ms(330).Add(300 * time.Microsecond)},
	}
	tests := []struct {
		due  time.Time
		want time.Duration
	}{
		{ms(15), 0},                       // before the stall began
		{ms(100), 220 * time.Millisecond}, // inside the stall: until it ended
		{ms(10).Add(100 * time.Microsecond), 100 * time.Microsecond}, // inside an ordinary wake-up delay
		{ms(20), 300 * time.Millisecond},
		{ms(400), 0}, // after the last tick
	}
	for _, tt := range tests {
		if got := stalledFor(ticks, tt.due); got != tt.want {
			t.Errorf("stalledFor(%v) = %v, want %v", tt.due.Sub(t0), got, tt.want)
		}
	}
}

// TestProcessCPU checks the CPU reading behind figure 2's "CPU per
// request": it grows while this process spins, and a missing process is
// an error, not a zero.
func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		now, err := processCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= 50*time.Millisecond {
			return
		}
		spin := 0
		for i := range 1_000_000 {
			spin += i
		}
		_ = spin
	}
	t.Error("5 s of spinning showed under 50 ms of CPU time")
}

func TestProcessCPUOfMissingProcess(t *testing.T) {
	if _, err := processCPU(1 << 30); err == nil { // above pid_max
		t.Error("processCPU of a pid that cannot exist: no error")
	}
}

// TestSeededJitterReplays checks what figure 12 relies on: a second
// sequence from the same seed draws the same jitters, each within [0, max]
// and spread over it, as the server's uniform jitter is.
func TestSeededJitterReplays(t *testing.T) {
	const max = 500 * time.Millisecond
	server, replay, other := seededJitter(17), seededJitter(17), seededJitter(18)
	same, distinct := 0, map[time.Duration]bool{}
	for range 1000 {
		j := server(max)
		if r := replay(max); r != j {
			t.Fatalf("replay drew %v, the server %v", r, j)
		}
		if j < 0 || j > max {
			t.Fatalf("jitter %v outside [0, %v]", j, max)
		}
		if other(max) == j {
			same++
		}
		distinct[j] = true
	}
	if len(distinct) < 900 || same > 10 {
		t.Fatalf("%d distinct jitters of 1000, %d equal to another seed's: not a spread sequence", len(distinct), same)
	}
	if j := server(0); j != 0 {
		t.Fatalf("jitter with max 0 = %v, want 0", j)
	}
}
