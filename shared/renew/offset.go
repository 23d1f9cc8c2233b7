package renew

import "time"

// maxSamples is how many recent measurements Offset keeps. Old ones age out
// so that a local clock that was changed is followed within a few pings.
const maxSamples = 8

// Offset estimates the server's clock minus the local clock. The page adds
// it to its own clock for every countdown and renewal decision, so a laptop
// whose clock is minutes off still renews on time and shows the truth.
//
// Each sample is a server timestamp taken somewhere between two local
// instants (a request sent, its answer received). The sample with the
// smallest uncertainty among the recent ones wins, as in NTP.
type Offset struct {
	samples [maxSamples]sample
	n, next int
}

type sample struct {
	offset, uncertainty time.Duration
}

// Observe records that the server's clock read server at some instant
// between the local times sent and received. resolution is the server
// timestamp's granularity: a millisecond for server_time_ms, a second for an
// HTTP Date header (which truncates, so the true time lies in
// [server, server+resolution)).
func (o *Offset) Observe(sent, received, server time.Time, resolution time.Duration) {
	rtt := received.Sub(sent) // monotonic when both carry it
	if rtt < 0 {
		rtt = 0
	}
	mid := sent.Round(0).Add(rtt / 2)
	s := sample{
		offset:      server.Round(0).Add(resolution / 2).Sub(mid),
		uncertainty: rtt/2 + resolution/2,
	}
	o.samples[o.next] = s
	o.next = (o.next + 1) % maxSamples
	if o.n < maxSamples {
		o.n++
	}
}

// Known reports whether any sample was recorded.
func (o *Offset) Known() bool { return o.n > 0 }

// Value returns the best estimate (zero before any sample) and its
// uncertainty.
func (o *Offset) Value() (offset, uncertainty time.Duration) {
	if o.n == 0 {
		return 0, 0
	}
	best := o.samples[0]
	for _, s := range o.samples[1:o.n] {
		if s.uncertainty < best.uncertainty {
			best = s
		}
	}
	return best.offset, best.uncertainty
}

// Now returns local plus the best offset: the server's time at local.
func (o *Offset) Now(local time.Time) time.Time {
	off, _ := o.Value()
	return local.Add(off)
}
