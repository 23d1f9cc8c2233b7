package lifetime_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/lifetime"
)

var t0 = time.Unix(1_800_000_000, 0)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestLayoutRenewals lays out a 10-second token renewed at its warning
// twice: three bars handing over, lanes alternating, the warning lead and
// the markers where they happened.
func TestLayoutRenewals(t *testing.T) {
	var h lifetime.History
	for i, trigger := range []string{"sign-in", "server warning", "page timer"} {
		start := float64(i) * 7 // renewed 3 s before each exp
		h.AddToken(lifetime.Token{JTI: "t" + strconv.Itoa(i), NotBefore: at(start), Expires: at(start + 10), Lead: 3 * time.Second, Trigger: trigger})
		if i > 0 {
			h.AddMarker(lifetime.Marker{At: at(start), Kind: lifetime.KindRenewal, Label: trigger})
		}
	}
	h.AddMarker(lifetime.Marker{At: at(-100), Kind: lifetime.KindDisconnect, Label: "1006"}) // before the window
	c := h.Layout(at(15), 12, 5*time.Second)
	// From the first nbf (0) to the last exp (24), plus a twentieth: 25.2 s.
	if !c.From.Equal(at(0)) || !c.To.Equal(at(25.2)) {
		t.Fatalf("window %v to %v", c.From.Sub(t0), c.To.Sub(t0))
	}
	if len(c.Bars) != 3 || c.Earlier != 0 {
		t.Fatalf("bars %d, earlier %d", len(c.Bars), c.Earlier)
	}
	w := 25.2
	for i, b := range c.Bars {
		start := float64(i) * 7
		if !near(b.Start, start/w) || !near(b.End, (start+10)/w) || !near(b.Warn, (start+7)/w) || b.Lane != i%2 || b.Current != (i == 2) {
			t.Errorf("bar %d = %+v", i, b)
		}
	}
	if c.Bars[1].Trigger != "server warning" || !near(c.Now, 15/w) {
		t.Errorf("trigger %q, now %v", c.Bars[1].Trigger, c.Now)
	}
	if len(c.Markers) != 2 || c.Markers[0].Kind != lifetime.KindRenewal || !near(c.Markers[1].X, 14/w) || c.Markers[1].Label != "page timer" {
		t.Errorf("markers %+v", c.Markers)
	}
}

// TestLayoutHundredsOfRenewals keeps a long session's chart to its latest
// tokens, counts the rest, and bounds what the history holds.
func TestLayoutHundredsOfRenewals(t *testing.T) {
	var h lifetime.History
	for i := range 1000 {
		s := float64(i) * 4
		h.AddToken(lifetime.Token{JTI: strconv.Itoa(i), NotBefore: at(s), Expires: at(s + 5), Lead: time.Second})
		h.AddMarker(lifetime.Marker{At: at(s), Kind: lifetime.KindRenewal})
	}
	h.AddToken(lifetime.Token{JTI: "999", NotBefore: at(9999), Expires: at(10000)}) // pushed again: one bar
	if h.Len() != 1000 {
		t.Fatalf("Len = %d", h.Len())
	}
	c := h.Layout(at(3998), 12, time.Second)
	if len(c.Bars) != 12 || c.Earlier != 988 || !c.Bars[11].Current || c.Bars[11].JTI != "999" {
		t.Fatalf("bars %d, earlier %d, last %+v", len(c.Bars), c.Earlier, c.Bars[len(c.Bars)-1])
	}
	if c.Bars[10].Lane == c.Bars[11].Lane {
		t.Error("neighbouring bars share a lane")
	}
	if len(c.Markers) > 13 {
		t.Errorf("%d markers in a window of 12 tokens", len(c.Markers))
	}
}

// TestLayoutEdges: nothing yet, and a token without nbf.
func TestLayoutEdges(t *testing.T) {
	var h lifetime.History
	c := h.Layout(at(100), 12, 10*time.Second)
	if len(c.Bars) != 0 || !c.From.Equal(at(90)) || !near(c.Now, 10.0/10.5) {
		t.Errorf("empty: %+v", c)
	}
	h.AddToken(lifetime.Token{JTI: "x", Expires: at(120)})
	c = h.Layout(at(100), 12, 10*time.Second)
	if len(c.Bars) != 1 || c.Bars[0].Start != 0 || !near(c.Bars[0].End, 30.0/31.5) {
		t.Errorf("no nbf: %+v", c.Bars)
	}
	h.Reset()
	if h.Len() != 0 || len(h.Layout(at(0), 12, time.Second).Bars) != 0 {
		t.Error("Reset kept tokens")
	}
}
