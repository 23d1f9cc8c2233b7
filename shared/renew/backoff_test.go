package renew

import (
	"testing"
	"time"
)

func TestBackoffCeiling(t *testing.T) {
	b := Backoff{Base: 500 * time.Millisecond, Max: 20 * time.Second}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 500 * time.Millisecond},
		{1, time.Second},
		{3, 4 * time.Second},
		{5, 16 * time.Second},
		{6, 20 * time.Second},
		{1000, 20 * time.Second}, // no overflow
	}
	for _, tt := range tests {
		if got := b.Ceiling(tt.attempt); got != tt.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	b := ReconnectBackoff
	if got := b.Delay(3, func() float64 { return 0 }); got != 0 {
		t.Errorf("Delay with rnd 0 = %v, want 0 (full jitter starts at zero)", got)
	}
	if got, want := b.Delay(3, func() float64 { return 0.5 }), b.Ceiling(3)/2; got != want {
		t.Errorf("Delay with rnd 0.5 = %v, want %v", got, want)
	}
	if got := b.Delay(3, func() float64 { return 0.999999 }); got >= b.Ceiling(3) {
		t.Errorf("Delay = %v, want below the ceiling %v", got, b.Ceiling(3))
	}
	if got := b.Delay(2, func() float64 { return 7 }); got != 0 {
		t.Errorf("Delay with a bad rnd = %v, want 0", got)
	}
}

func TestRetryDelayFitsBeforeExpiry(t *testing.T) {
	one := func() float64 { return 0.99 }
	if got := RetryDelay(10, 2*time.Second, one); got > 500*time.Millisecond {
		t.Errorf("RetryDelay with 2s left = %v, want at most a quarter (500ms)", got)
	}
	if got := RetryDelay(10, time.Hour, one); got > RetryBackoff.Max {
		t.Errorf("RetryDelay = %v, want at most %v", got, RetryBackoff.Max)
	}
	for _, left := range []time.Duration{time.Millisecond, 3} {
		if got := RetryDelay(10, left, one); got != MinRetry {
			t.Errorf("RetryDelay with %v left = %v, want the floor %v", left, got, MinRetry)
		}
	}
	if got := RetryDelay(10, -time.Second, one); got <= 0 || got > RetryBackoff.Max {
		t.Errorf("RetryDelay for an expired token = %v, want the backoff pace", got)
	}
}
