package sdk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openTokenlab opens tokenlab's own page in a fresh browser context,
// records its SDK notices, and signs in as identity.
func openTokenlab(t *testing.T, identity string, limit time.Duration) context.Context {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(tab, limit)
	t.Cleanup(cancelT)
	err := chromedp.Do(ctx,
		chromedp.Navigate(baseURL+"/"),
		chromedp.Evaluate[chromedp.Void](`window.__sdk = []; window.addEventListener("tokenlab:notice", (e) => {
		  if (e.detail.type === "sdk") window.__sdk.push(e.detail.event + "/" + e.detail.state);
		})`),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), identity),
		chromedp.SendKeys(chromedp.CSS(`#password`), "any password works in demo mode"),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.Poll[chromedp.Void](`window.tokenlab.snapshot().connected && !document.getElementById("sdk-card").hidden`,
			chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)),
	)
	if err != nil {
		t.Fatalf("signing in to tokenlab's page as %s: %v", identity, err)
	}
	return ctx
}

// sdkRow is one row of the page's "SDK connections" card.
type sdkRow struct {
	ID      string `json:"id"`
	Product string `json:"product"`
	Event   string `json:"event"`
	State   string `json:"state"`
	Text    string `json:"text"`
}

func sdkRows(t *testing.T, ctx context.Context) []sdkRow {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]sdkRow](`[...document.querySelectorAll("#sdk-list li")].map((li) => ({
	  id: li.dataset.sdkId, product: li.dataset.product, event: li.dataset.event, state: li.dataset.state, text: li.textContent}))`))
	if err != nil {
		t.Fatalf("reading the SDK card: %v", err)
	}
	return rows
}

// TestPageShowsSDKConnection: a real Sync client whose token is for the
// page's identity shows in tokenlab's page, live: connected, warned,
// updated by the app's updateToken, warned again, then expired and
// closed. The page's own session never sees another identity's client.
func TestPageShowsSDKConnection(t *testing.T) {
	page := openTokenlab(t, "card-demo", 40*time.Second)
	app := newTab(t, 40*time.Second)
	// Another identity's client, connected first: it must not show.
	other := newTab(t, 40*time.Second)
	call[[]string](t, other, "refused", wsURL, syncToken(t, creds, nil, "someone-else", time.Minute), syncToken(t, creds, nil, "mallory", time.Minute))

	first := syncToken(t, creds, nil, "card-demo", 3*time.Second)
	second := syncToken(t, creds, nil, "card-demo", 6*time.Second)
	events := strings.Join(call[[]string](t, app, "lifecycle", wsURL, first, second), " ")
	if !strings.Contains(events, "update:resolved") || !strings.Contains(events, "tokenExpired") {
		t.Fatalf("the SDK reported %q, want an update and then tokenExpired", events)
	}
	err := chromedp.Do(page, chromedp.Poll[chromedp.Void](`window.__sdk.includes("expired/closed")`,
		chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		seen, _ := chromedp.Run(page, chromedp.Evaluate[[]string](`window.__sdk`))
		t.Fatalf("the page heard %v, want the connection's expiry and close: %v", seen, err)
	}
	seen, err := chromedp.Run(page, chromedp.Evaluate[[]string](`window.__sdk`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(seen, " "), "connected/open warned/open updated/open warned/open expired/open expired/closed"; got != want {
		t.Errorf("the page heard %q, want %q", got, want)
	}
	rows := sdkRows(t, page)
	if len(rows) != 1 || rows[0].Product != "sync" || rows[0].Event != "expired" || rows[0].State != "closed" ||
		!strings.Contains(rows[0].Text, "token expires") {
		t.Errorf("the SDK card shows %+v, want the one sync connection of card-demo, expired and closed", rows)
	}
}
