package main

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// canary is figure 5's baseline, in the same process as the hub: a
// goroutine that sleeps 10 ms at a time and records when each wake-up was
// due and when it came. A stretch where it woke late is a stretch where
// the process could not run (the machine is shared); a perfect timer
// would have been late by the same amount. For each warning, stalledFor
// gives that share, so the warnings' lateness can be set against what the
// process itself suffered at the same moments.
type canary struct {
	mu    sync.Mutex
	ticks []canaryTick
}

type canaryTick struct{ due, at time.Time }

const canaryPeriod = 10 * time.Millisecond

func startCanary() *canary {
	c := &canary{}
	go func() {
		for {
			due := time.Now().Add(canaryPeriod)
			time.Sleep(canaryPeriod)
			now := time.Now()
			c.mu.Lock()
			if len(c.ticks) < 1<<20 { // hours of ticks: bounded
				c.ticks = append(c.ticks, canaryTick{due: due, at: now})
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// ServeHTTP answers GET ?from=MS&to=MS (unix milliseconds) with one line
// per wake-up due in that span: "DUE AT" in unix microseconds.
func (c *canary) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	if err1 != nil || err2 != nil {
		http.Error(w, "want ?from=MS&to=MS", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	ticks := slices.Clone(c.ticks)
	c.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, t := range ticks {
		if ms := t.due.UnixMilli(); ms >= from && ms <= to {
			fmt.Fprintln(bw, t.due.UnixMicro(), t.at.UnixMicro())
		}
	}
	bw.Flush()
}

// canaryTicks fetches the child's wake-ups due between from and to.
func (c *child) canaryTicks(from, to time.Time) ([]canaryTick, error) {
	s, err := c.debugGet(fmt.Sprintf("/canary?from=%d&to=%d", from.UnixMilli(), to.UnixMilli()))
	if err != nil {
		return nil, err
	}
	var ticks []canaryTick
	for line := range strings.Lines(s) {
		var due, at int64
		if _, err := fmt.Sscan(line, &due, &at); err != nil {
			return nil, fmt.Errorf("canary line %q: %v", line, err)
		}
		ticks = append(ticks, canaryTick{due: time.UnixMicro(due), at: time.UnixMicro(at)})
	}
	return ticks, nil
}

// stalledFor is how late a perfect timer due at d would have run, judged
// by the canary: a wake-up due at t that came only at t+L shows the process
// could not run from t to t+L, so a timer due at d inside that span waits
// until t+L. Outside such spans it is 0. ticks are sorted by due.
func stalledFor(ticks []canaryTick, d time.Time) time.Duration {
	i, found := slices.BinarySearchFunc(ticks, d, func(t canaryTick, d time.Time) int { return t.due.Compare(d) })
	if found {
		i++
	}
	// ticks[i-1] is the last wake-up due at or before d.
	if i > 0 {
		if t := ticks[i-1]; t.at.After(d) {
			return t.at.Sub(d)
		}
	}
	return 0
}
