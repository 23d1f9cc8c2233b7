package e2e_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLabHooks drives the page's own session through the lab's test
// hooks, as a user's headless test would: expire now is renewed at once;
// two refused renewals are retried with backoff, a few times, until the
// page recovers by itself; a dropped socket reconnects; a skewed server's
// token is adopted with its shifted expiry; a bad order is refused with
// the server's message. Each order is a fault marker on the chart.
func TestLabHooks(t *testing.T) {
	ctx := newTab(t, 60*time.Second)
	open(t, ctx)
	signIn(t, ctx, "lab", 600)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
	// Tokens minted in the same second as the sign-in's are the same token:
	// wait for the next second so that the renewal is a new one.
	signedIn := snap(t, ctx)
	waitFor(t, ctx, `Math.floor(Date.now()/1000) > `+itoa64(signedIn.ExpiresAt-600), 3*time.Second)

	if got := awaited(t, ctx, `window.tokenlab.test.expireNow().then(a => a.action + " " + a.connections)`); got != "expire 1" {
		t.Fatalf("expireNow() = %q, want the server to reach the page's socket", got)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 1`, 10*time.Second)

	waitFor(t, ctx, `Math.floor(Date.now()/1000) > `+itoa64(snap(t, ctx).ExpiresAt-600), 3*time.Second)
	awaited(t, ctx, `window.tokenlab.test.failRenewals(2, 503).then(a => a.action)`)
	awaited(t, ctx, `window.tokenlab.test.warnNow().then(a => a.action)`)
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 2`, 15*time.Second)
	failed := 0
	for _, e := range recorded(t, ctx).Events {
		if e.Name == "tokenlab:error" && e.Detail["code"] == "renew_failed" {
			failed++
			if !strings.Contains(e.Detail["message"].(string), "503") {
				t.Errorf("renewal failure %q does not name the status", e.Detail["message"])
			}
		}
	}
	if failed != 2 {
		t.Errorf("%d failed renewals reported, want the 2 ordered and no more", failed)
	}

	got := awaited(t, ctx, `window.tokenlab.test.failRenewals(2, 418).then(() => "ordered", e => e.message)`)
	if !strings.Contains(got, "status must be one of") {
		t.Errorf("failRenewals(2, 418) = %q, want the server's refusal naming status", got)
	}

	reconnects := `window.__rec.events.filter(e => e.name === "tokenlab:notice" && e.detail.type === "connected" && e.detail.reconnect).length`
	awaited(t, ctx, `window.tokenlab.test.drop(1006).then(a => a.action)`)
	waitFor(t, ctx, reconnects+` >= 1 && window.tokenlab.snapshot().connected`, 15*time.Second)

	waitFor(t, ctx, `Math.floor(Date.now()/1000) > `+itoa64(snap(t, ctx).ExpiresAt-600), 3*time.Second)
	awaited(t, ctx, `window.tokenlab.test.skew(3600).then(a => a.action)`)
	awaited(t, ctx, `window.tokenlab.test.expireNow().then(a => a.action)`)
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 3`, 10*time.Second)
	if left := time.Until(time.Unix(snap(t, ctx).ExpiresAt, 0)); left < 3600*time.Second || left > 4300*time.Second {
		t.Errorf("the skewed token expires in %v, want about 1h10m", left)
	}
	awaited(t, ctx, `window.tokenlab.test.skew(0).then(a => a.action)`)

	// The drawer's buttons order the same faults. (The skewed token's jti
	// carries a time an hour ahead, so the next one differs from it.)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#lab summary`)), chromedp.Click(chromedp.CSS(`#lab button[data-lab="expire"]`))); err != nil {
		t.Fatalf("clicking the drawer's Expire now: %v", err)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals === 4`, 10*time.Second)

	if got := text(t, ctx, `[...document.querySelectorAll("#lifetime .marker.expired")].map(g => g.dataset.label).join("|")`); !strings.Contains(got, "lab") {
		t.Errorf("the chart's expired markers %q do not name the lab as their cause", got)
	}
	labels := text(t, ctx, `[...document.querySelectorAll("#lifetime .marker.fault")].map(g => g.dataset.label).join("|")`)
	for _, want := range []string{"lab: expire now", "lab: fail the next 2 renewals with 503", "lab: warn now", "lab: drop the sockets with 1006", "lab: mint with the clock off by 3600 s"} {
		if !strings.Contains(labels, want) {
			t.Errorf("the chart's fault markers %q lack %q", labels, want)
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
