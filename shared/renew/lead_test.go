package renew

import (
	"testing"
	"time"
)

func TestLead(t *testing.T) {
	tests := []struct {
		name            string
		ttl, configured time.Duration
		want            time.Duration
	}{
		{"long token keeps the configured lead", time.Hour, time.Minute, time.Minute},
		{"short token scales to a third", 6 * time.Second, time.Minute, 2 * time.Second},
		{"tiny token keeps a floor", time.Second, time.Minute, minLead},
		{"floor never exceeds the ttl", 300 * time.Millisecond, time.Minute, 300 * time.Millisecond},
		{"unknown ttl keeps the configured lead", 0, 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lead(tt.ttl, tt.configured); got != tt.want {
				t.Errorf("Lead(%v, %v) = %v, want %v", tt.ttl, tt.configured, got, tt.want)
			}
		})
	}
}

func TestMaxJitter(t *testing.T) {
	if got := MaxJitter(time.Minute); got != 5*time.Second {
		t.Errorf("MaxJitter(1m) = %v, want 5s", got)
	}
	if got := MaxJitter(2 * time.Second); got != 200*time.Millisecond {
		t.Errorf("MaxJitter(2s) = %v, want 200ms", got)
	}
}
