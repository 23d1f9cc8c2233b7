package e2e_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

type chartBar struct {
	JTI     string  `json:"jti"`
	Trigger string  `json:"trigger"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Current bool    `json:"current"`
}

type chartMarker struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

type drawnChart struct {
	Bars    []chartBar    `json:"bars"`
	Markers []chartMarker `json:"markers"`
	Now     float64       `json:"now"`
	Width   float64       `json:"width"`
	Page    float64       `json:"page"`
	JTI     string        `json:"jti"`
}

// readChart reads the lifetime chart as drawn, and snapshot()'s token.
const readChart = `(() => {
	const svg = document.getElementById("lifetime");
	return {
		bars: [...svg.querySelectorAll(".bar")].map(g => ({jti: g.dataset.jti, trigger: g.dataset.trigger,
			start: +g.dataset.start, end: +g.dataset.end, current: g.classList.contains("current")})),
		markers: [...svg.querySelectorAll(".marker")].map(g => ({kind: g.dataset.kind, label: g.dataset.label})),
		now: +svg.querySelector(".now").dataset.x,
		width: svg.getBoundingClientRect().width,
		page: document.documentElement.clientWidth,
		jti: window.tokenlab.snapshot().jti,
	};
})()`

// TestLifetimeChart renews a short token by the server's warnings and by
// the button, at desktop and phone sizes in both color schemes, and reads
// the chart: a bar per token with its trigger, in order, the newest one
// current and snapshot()'s, a renewal tick per renewal with its trigger,
// a warning tick per warning, and the now line inside the chart.
func TestLifetimeChart(t *testing.T) {
	sizes := []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}}
	for _, size := range sizes {
		for _, scheme := range []string{"light", "dark"} {
			t.Run(size.name+"/"+scheme, func(t *testing.T) {
				ctx := newTab(t, 40*time.Second)
				if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: size.width, Height: size.height, DeviceScaleFactor: 1, Mobile: size.mobile}); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
					t.Fatal(err)
				}
				open(t, ctx)
				signIn(t, ctx, "charlotte", 5)
				waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 2`, 15*time.Second)
				// The server answers a renewal within a second of its last
				// mint with that token (tabs renewing together share one):
				// press the button once the newest token is older than that.
				waitFor(t, ctx, `(() => { const ts = window.__rec.events.filter(e => e.name === "tokenlab:token");
					return Date.now() - ts[ts.length - 1].at > 1200; })()`, 10*time.Second)
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#renew-now`))); err != nil {
					t.Fatal(err)
				}
				waitFor(t, ctx, `window.__rec.events.some(e => e.name === "tokenlab:token" && e.detail.trigger === "button")`, 10*time.Second)
				// The chart redraws on the display's tick.
				waitFor(t, ctx, `document.querySelectorAll("#lifetime .bar").length >= 4 && document.querySelector("#lifetime .bar.current").dataset.jti === window.tokenlab.snapshot().jti`, 5*time.Second)

				c, err := chromedp.Run(ctx, chromedp.Evaluate[drawnChart](readChart))
				if err != nil {
					t.Fatal(err)
				}
				r := recorded(t, ctx)
				tokens, warnings := tokenEvents(r), 0
				for _, e := range r.Events {
					if e.Name == "tokenlab:notice" && e.Detail["type"] == "expiring" {
						warnings++
					}
				}
				if len(c.Bars) != len(tokens) {
					t.Fatalf("%d bars for %d tokens:\nbars %+v", len(c.Bars), len(tokens), c.Bars)
				}
				renewalTicks := map[string]int{}
				for _, m := range c.Markers {
					if m.Kind == "renewal" {
						renewalTicks[m.Label]++
					}
				}
				wantTicks := map[string]int{}
				for i, e := range tokens {
					b := c.Bars[i]
					if b.JTI != e.Detail["jti"] || b.Trigger != e.Detail["trigger"] {
						t.Errorf("bar %d is %s (%s), token %d was %v (%v)", i, b.JTI, b.Trigger, i, e.Detail["jti"], e.Detail["trigger"])
					}
					if !(0 <= b.Start && b.Start < b.End && b.End <= 1) || b.Current != (i == len(tokens)-1) {
						t.Errorf("bar %d is placed at %v-%v (current %v)", i, b.Start, b.End, b.Current)
					}
					if i > 0 {
						wantTicks[b.Trigger]++
					}
				}
				if renewalTicks["button"] != 1 || renewalTicks["server warning"] != wantTicks["server warning"] || len(renewalTicks) != len(wantTicks) {
					t.Errorf("renewal ticks %v, want %v", renewalTicks, wantTicks)
				}
				drawnWarnings := 0
				for _, m := range c.Markers {
					if m.Kind == "warning" {
						drawnWarnings++
					}
				}
				if drawnWarnings != warnings || warnings < 2 {
					t.Errorf("%d warning ticks for %d warnings", drawnWarnings, warnings)
				}
				if c.Bars[len(c.Bars)-1].JTI != c.JTI || c.Now <= 0 || c.Now > 1 {
					t.Errorf("current bar %s, snapshot %s, now at %v", c.Bars[len(c.Bars)-1].JTI, c.JTI, c.Now)
				}
				if c.Width < 200 || c.Width > c.Page {
					t.Errorf("the chart is %v px wide on a %v px page", c.Width, c.Page)
				}
				t.Logf("%s: %d bars, %d markers, chart %s px", size.name, len(c.Bars), len(c.Markers), strconv.FormatFloat(c.Width, 'f', 0, 64))
				// TOKENLAB_SCREENSHOT=docs/screenshot.png also saves this
				// page, as docs/screenshot-lifetime[-dark].png (README).
				if path := os.Getenv("TOKENLAB_SCREENSHOT"); path != "" && size.name == "desktop" {
					eval(t, ctx, `scrollTo(0, 0)`)
					png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
					if err != nil {
						t.Fatal(err)
					}
					name := strings.TrimSuffix(path, ".png") + "-lifetime.png"
					if scheme == "dark" {
						name = strings.TrimSuffix(path, ".png") + "-lifetime-dark.png"
					}
					if err := os.WriteFile(name, png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}
