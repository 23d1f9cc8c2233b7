// Package renew decides when a token should be renewed. The server uses it
// to time its "expiring" warnings and the page uses it for its fallback
// timer, so both sides follow one rule. It is plain Go with the clock
// passed in, so it is tested on the host.
package renew

import "time"

// DefaultLead is how long before expiry the server warns by default.
const DefaultLead = 60 * time.Second

// minLead keeps a usable warning even for absurdly short tokens.
const minLead = 500 * time.Millisecond

// Lead returns the warning lead for a token whose whole lifetime is ttl:
// the configured lead, scaled down to a third of the ttl when the token is
// too short for it. A short token still gets its warning, with two thirds of
// its life spent before it and one third left to renew.
func Lead(ttl, configured time.Duration) time.Duration {
	lead := configured
	if ttl <= 0 {
		return lead
	}
	if third := ttl / 3; lead > third {
		lead = third
	}
	if lead < minLead {
		lead = minLead
	}
	if lead > ttl {
		lead = ttl
	}
	return lead
}

// MaxJitter bounds the random spread a server adds before the lead so that
// tokens expiring together are not all renewed in the same instant: a tenth
// of the lead, at most 5 s. Warnings therefore arrive between lead and
// lead+MaxJitter(lead) before expiry.
func MaxJitter(lead time.Duration) time.Duration {
	j := lead / 10
	if j > 5*time.Second {
		j = 5 * time.Second
	}
	return j
}
