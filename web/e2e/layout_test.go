package e2e_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestPhoneSignInShowsTheLiveToken signs in on a phone-sized screen, in
// both color schemes: focus and the view go to the live token (not the
// raw token far below), grant keys stay whole words, and the times fit
// the screen instead of being cut at its edge.
func TestPhoneSignInShowsTheLiveToken(t *testing.T) {
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := newTab(t, 30*time.Second)
			_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: 390, Height: 844, DeviceScaleFactor: 3, Mobile: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			}); err != nil {
				t.Fatal(err)
			}
			open(t, ctx)
			signIn(t, ctx, "phoebe", 600)
			if got := text(t, ctx, `String(document.querySelector("#live-view .grant-card .key").getClientRects().length)`); got != "1" {
				t.Errorf("the grant key badge breaks over %s lines", got)
			}
			clipped := text(t, ctx, `[...document.querySelectorAll("#live-view .times td")].filter(td => {
				const r = td.getBoundingClientRect();
				return r.right > document.documentElement.clientWidth || td.scrollWidth > td.clientWidth + 1;
			}).map(td => td.dataset.part + "=" + td.textContent).join(", ")`)
			if clipped != "" {
				t.Errorf("times cut at the screen's edge: %s", clipped)
			}
			waitFor(t, ctx, `document.activeElement && document.activeElement.id === "live-title"`, 5*time.Second)
			// The countdown is on screen.
			waitFor(t, ctx, `(() => {
				const r = document.querySelector("#live-view [data-part=countdown]").getBoundingClientRect();
				return r.top >= 0 && r.bottom <= innerHeight;
			})()`, 5*time.Second)
		})
	}
}

// TestDesktopUsesTheWidth signs in at 1280 px: the live token takes most of
// the width, the header's JSON keeps "twilio-fpa;v=1" on one line, and the
// payload is shown whole rather than in an inner scroll box.
func TestDesktopUsesTheWidth(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 1280, Height: 900, DeviceScaleFactor: 1,
	}); err != nil {
		t.Fatal(err)
	}
	open(t, ctx)
	signIn(t, ctx, "desmond", 600)
	if w, _ := strconv.Atoi(text(t, ctx, `String(Math.round(document.getElementById("live").getBoundingClientRect().width))`)); w < 700 {
		t.Errorf("the live token is %d px wide on a 1280 px screen", w)
	}
	lines := text(t, ctx, `(() => {
		const pre = document.querySelector("#live-view [data-part=header]");
		const node = [...pre.childNodes].find(n => n.textContent.includes("twilio-fpa"));
		const range = document.createRange();
		const at = node.textContent.indexOf('"twilio-fpa;v=1"');
		range.setStart(node, at); range.setEnd(node, at + '"twilio-fpa;v=1"'.length);
		return String(range.getClientRects().length);
	})()`)
	if lines != "1" {
		t.Errorf(`"twilio-fpa;v=1" is broken over %s lines in the header's JSON`, lines)
	}
	if got := text(t, ctx, `(() => { const p = document.querySelector("#live-view [data-part=payload]"); return p.scrollHeight + " " + p.clientHeight; })()`); func() bool {
		var sh, ch int
		_, err := fmt.Sscan(got, &sh, &ch)
		return err != nil || sh > ch+1
	}() {
		t.Errorf("the payload scrolls inside its box (scrollHeight, clientHeight = %s)", got)
	}
}

// TestFreshVisitHasNoFailedRequest loads the page in a browser that never
// signed in: asking whether a session exists must not show as a failed
// request (a red console line that suites failing on console errors trip
// on).
func TestFreshVisitHasNoFailedRequest(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	open(t, ctx)
	waitFor(t, ctx, `!document.getElementById("signin").hidden`, 5*time.Second)
	failed := text(t, ctx, `performance.getEntriesByType("resource").filter(e => e.responseStatus >= 400).map(e => e.name + " " + e.responseStatus).join(", ")`)
	if failed != "" {
		t.Errorf("a fresh visit made failing requests: %s", failed)
	}
	probes := text(t, ctx, `String(performance.getEntriesByType("resource").filter(e => e.name.includes("/token/refresh") && e.responseStatus === 204).length)`)
	if probes != "1" {
		t.Errorf("%s session probes answered 204, want 1", probes)
	}
}
