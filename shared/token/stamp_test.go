package token_test

import (
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// Stamp writes what time.RFC3339 writes in UTC, and a bare number for
// years RFC 3339 cannot hold.
func TestStamp(t *testing.T) {
	for _, sec := range []int64{0, 1, 1_700_000_000, 951_782_400, 253_402_300_799} {
		if got, want := token.Stamp(sec), time.Unix(sec, 0).UTC().Format(time.RFC3339); got != want {
			t.Errorf("Stamp(%d) = %q, want %q", sec, got, want)
		}
	}
	if got, want := token.Stamp(253_402_300_800), "253402300800 (unix seconds)"; got != want {
		t.Errorf("Stamp in the year 10000 = %q, want %q", got, want)
	}
}
