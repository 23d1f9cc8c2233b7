// Package lifetime keeps the history of a session's tokens and what
// happened to them (renewals and their triggers, warnings, disconnects,
// reconnects, faults), and lays it out as a chart: one bar per token from
// nbf to exp with its warning lead marked, a marker per event, and a "now"
// line, on a time axis that follows the present.
//
// The layout is plain numbers (fractions of the chart's width), so the
// page only draws it and the tests check it on the host. The history is
// bounded: a session with thousands of renewals keeps the latest ones and
// counts the rest.
package lifetime

import "time"

// Limits on what a History keeps.
const (
	MaxTokens  = 200
	MaxMarkers = 500
)

// Kinds of Marker.
const (
	KindRenewal    = "renewal"    // a new token; Label is its trigger
	KindWarning    = "warning"    // the server's "expiring"
	KindExpired    = "expired"    // the server said the token expired
	KindDisconnect = "disconnect" // the socket closed; Label is the close code
	KindReconnect  = "reconnect"  // the socket is back
	KindFault      = "fault"      // something failed (a renewal refused); Label says what
)

// Token is one token of the session.
type Token struct {
	JTI       string
	NotBefore time.Time // nbf, or the issue time when the token has none
	Expires   time.Time
	Lead      time.Duration // how long before Expires the renewal is due
	Trigger   string        // what asked for it: "sign-in", "server warning", …
}

// Marker is one event at a point in time.
type Marker struct {
	At    time.Time
	Kind  string
	Label string
}

// History is a session's tokens and events, oldest first. The zero value is
// empty and ready; it is not safe for concurrent use.
type History struct {
	tokens  []Token
	markers []Marker
	// droppedTokens and droppedMarkers count what fell off the front.
	droppedTokens, droppedMarkers int
}

// AddToken records a new token; a token already recorded (same JTI) is
// ignored, so that a token pushed twice is one bar.
func (h *History) AddToken(t Token) {
	for i := len(h.tokens) - 1; i >= 0 && i >= len(h.tokens)-4; i-- {
		if h.tokens[i].JTI == t.JTI {
			return
		}
	}
	h.tokens = append(h.tokens, t)
	if len(h.tokens) > MaxTokens {
		n := len(h.tokens) - MaxTokens
		h.tokens = append(h.tokens[:0], h.tokens[n:]...)
		h.droppedTokens += n
	}
}

// AddMarker records an event.
func (h *History) AddMarker(m Marker) {
	h.markers = append(h.markers, m)
	if len(h.markers) > MaxMarkers {
		n := len(h.markers) - MaxMarkers
		h.markers = append(h.markers[:0], h.markers[n:]...)
		h.droppedMarkers += n
	}
}

// Reset forgets everything: a new sign-in starts a new chart.
func (h *History) Reset() { *h = History{} }

// Len is the number of tokens recorded since the last Reset, dropped ones
// included.
func (h *History) Len() int { return h.droppedTokens + len(h.tokens) }

// Chart is a History laid out on a window of time. Positions are fractions
// of the window's width, in [0, 1].
type Chart struct {
	From, To time.Time
	Now      float64
	Bars     []Bar
	Markers  []Point
	// Earlier counts the tokens that ended before the window (or were
	// dropped from the history): a long session shows its recent past.
	Earlier int
}

// Bar is one token on the chart.
type Bar struct {
	JTI     string
	Trigger string
	// Start and End are nbf and exp; Warn is exp minus the lead. All are
	// clamped to the window.
	Start, Warn, End float64
	// Lane alternates between 0 and 1, so that a token and the next one
	// overlap visibly where one hands over to the other.
	Lane int
	// Current says it is the newest token.
	Current bool
}

// Point is one marker on the chart.
type Point struct {
	X     float64
	Kind  string
	Label string
}

// Layout places the tokens and markers that fall within the window ending
// a little after now. The window spans the newest tokens' lifetimes (at
// most maxBars of them), at least minSpan, so a short token fills it and
// hundreds of renewals never crowd it.
func (h *History) Layout(now time.Time, maxBars int, minSpan time.Duration) Chart {
	c := Chart{Earlier: h.droppedTokens}
	if maxBars < 1 {
		maxBars = 1
	}
	first := max(0, len(h.tokens)-maxBars)
	c.Earlier += first
	from, to := now.Add(-minSpan), now
	if first < len(h.tokens) {
		if t := h.tokens[first].NotBefore; !t.IsZero() && t.Before(from) {
			from = t
		}
		if e := h.tokens[len(h.tokens)-1].Expires; e.After(to) {
			to = e
		}
	}
	// Room after the latest instant, so the current bar's end and the now
	// line never sit on the edge.
	span := to.Sub(from)
	to = to.Add(span / 20)
	c.From, c.To = from, to
	pos := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(to.Sub(from))
		return min(1, max(0, f))
	}
	c.Now = pos(now)
	for i := first; i < len(h.tokens); i++ {
		t := h.tokens[i]
		start := t.NotBefore
		if start.IsZero() {
			start = from
		}
		c.Bars = append(c.Bars, Bar{
			JTI: t.JTI, Trigger: t.Trigger,
			Start: pos(start), Warn: pos(t.Expires.Add(-t.Lead)), End: pos(t.Expires),
			Lane: (h.droppedTokens + i) % 2, Current: i == len(h.tokens)-1,
		})
	}
	for _, m := range h.markers {
		if m.At.Before(from) || m.At.After(to) {
			continue
		}
		c.Markers = append(c.Markers, Point{X: pos(m.At), Kind: m.Kind, Label: m.Label})
	}
	return c
}
