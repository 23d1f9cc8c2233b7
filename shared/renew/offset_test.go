package renew

import (
	"testing"
	"time"
)

func TestOffset(t *testing.T) {
	local := time.Unix(1_700_000_000, 0)
	var o Offset
	if o.Known() {
		t.Fatal("Known() before any sample")
	}
	if got := o.Now(local); !got.Equal(local) {
		t.Errorf("Now without samples = %v, want the local time", got)
	}

	// A Date header: server clock 3 minutes ahead, second resolution, 200 ms round trip.
	o.Observe(local, local.Add(200*time.Millisecond), local.Add(3*time.Minute+100*time.Millisecond), time.Second)
	off, unc := o.Value()
	if want := 3*time.Minute + 100*time.Millisecond + 500*time.Millisecond - 100*time.Millisecond; off != want {
		t.Errorf("offset = %v, want %v", off, want)
	}
	if unc != 600*time.Millisecond {
		t.Errorf("uncertainty = %v, want 600ms", unc)
	}

	// A pong with millisecond resolution and a 10 ms round trip beats it.
	sent := local.Add(time.Second)
	o.Observe(sent, sent.Add(10*time.Millisecond), sent.Add(3*time.Minute+5*time.Millisecond), time.Millisecond)
	off, unc = o.Value()
	if want := 3*time.Minute + 500*time.Microsecond; off != want {
		t.Errorf("offset = %v, want %v", off, want)
	}
	if unc != 5*time.Millisecond+500*time.Microsecond {
		t.Errorf("uncertainty = %v", unc)
	}

	// A worse sample does not replace the best one...
	o.Observe(sent, sent.Add(time.Second), sent.Add(time.Hour), time.Millisecond)
	if got, _ := o.Value(); got != off {
		t.Errorf("offset = %v after a worse sample, want %v", got, off)
	}
	// ...until the best one ages out.
	for range maxSamples {
		o.Observe(sent, sent.Add(40*time.Millisecond), sent.Add(-2*time.Second+20*time.Millisecond), time.Millisecond)
	}
	if got, _ := o.Value(); got != -2*time.Second+500*time.Microsecond {
		t.Errorf("offset = %v after the clock changed, want about -2s", got)
	}
}

func TestOffsetNegativeRTT(t *testing.T) {
	var o Offset
	now := time.Unix(100, 0)
	o.Observe(now, now.Add(-time.Second), now, time.Millisecond) // clock stepped back mid-request
	if _, unc := o.Value(); unc < 0 {
		t.Errorf("uncertainty = %v, want >= 0", unc)
	}
}
