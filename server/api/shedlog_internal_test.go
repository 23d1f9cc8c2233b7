package api

import (
	"testing"
	"time"
)

func TestShedLogAdmitsOneASecond(t *testing.T) {
	var s shedLog
	t0 := time.Unix(1_800_000_000, 0)
	steps := []struct {
		at      time.Duration
		ok      bool
		skipped int
	}{
		{0, true, 0},
		{100 * time.Millisecond, false, 0},
		{900 * time.Millisecond, false, 0},
		{time.Second, true, 2},
		{1500 * time.Millisecond, false, 0},
		{5 * time.Second, true, 1},
	}
	for _, st := range steps {
		skipped, ok := s.admit(t0.Add(st.at))
		if ok != st.ok || skipped != st.skipped {
			t.Errorf("at %v: admit = %d, %v; want %d, %v", st.at, skipped, ok, st.skipped, st.ok)
		}
	}
}
