package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web/examples/app"
)

// exampleHost serves the example app (web/examples/app) under /example/
// on the app's origin. The example names tokenlab, which starts after the
// app (its allowed origins list the app's): the handler is made at the
// first request.
func exampleHost() http.Handler {
	var once sync.Once
	var h http.Handler
	return http.StripPrefix("/example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { h = app.Handler(tokenlabOrigin()) })
		h.ServeHTTP(w, r)
	}))
}

// pageErrors records what the page throws and leaves unhandled, from
// before its first script runs.
const pageErrors = `window.__pageErrors = [];
addEventListener("error", (e) => window.__pageErrors.push(String(e.message)));
addEventListener("unhandledrejection", (e) => window.__pageErrors.push("unhandled rejection: " + String(e.reason && e.reason.message || e.reason)));
window.__events = [];
for (const name of ["tokenlab:token", "tokenlab:notice", "tokenlab:error"])
  addEventListener(name, (e) => window.__events.push({name, ...e.detail, token: undefined}));`

// standInCall is one updateToken call the example's SDK stand-in recorded.
type standInCall struct {
	JTI     string `json:"jti"`
	Exp     int64  `json:"exp"`
	Nbf     int64  `json:"nbf"`
	At      int64  `json:"at"`
	OK      bool   `json:"ok"`
	Code    any    `json:"code"`
	Message string `json:"message"`
}

// TestExampleAppSurvivesTheLab loads the example app on its own origin,
// as a user's app runs, against the real server: its first token comes
// cross-origin through the embed, the embed renews it, and each of the
// lab's faults, ordered by an operator route or the page's own test hooks,
// is survived: the app's SDK client gets a fresh, valid token after each
// and nothing in the page throws. A revoke ends the session, which the app
// sees and shows.
func TestExampleAppSurvivesTheLab(t *testing.T) {
	ctx := newTab(t, 3*time.Minute)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageErrors})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 10
	user := "example-" + strings.ToLower(rand.Text()[:8])
	navigate(t, ctx, fmt.Sprintf("%s/example/?username=%s&ttl=%d", appURL, user, ttl))
	waitFor(t, ctx, `window.app !== undefined && app.client.calls.length === 1`, 15*time.Second)
	if c := calls(t, ctx); !c[0].OK {
		t.Fatalf("the SDK client refused the first token: %v %s", c[0].Code, c[0].Message)
	}
	session := snap(t, ctx).SessionID
	if session == "" {
		t.Fatal("snapshot() has no sessionId")
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)

	// The embed renews on its own, a third of the ttl before expiry.
	fresh(t, ctx, "the embed's own renewal", 2*ttl*time.Second, func() {})

	byOperator := func(action, body string) func() {
		return func() { labOrder(t, session, action, body) }
	}
	byHook := func(js string) func() {
		return func() { awaited(t, ctx, `window.tokenlab.test.`+js+`.then(a => a.action)`) }
	}
	fresh(t, ctx, "expire now (operator)", 10*time.Second, byOperator("expire", ""))
	fresh(t, ctx, "expire now (test hook)", 10*time.Second, byHook("expireNow()"))
	fresh(t, ctx, "warn now (operator)", 10*time.Second, byOperator("warn", ""))
	fresh(t, ctx, "warn now (test hook)", 10*time.Second, byHook("warnNow()"))

	// Refused renewals: the embed reports each, retries with backoff and
	// gets a token once the order is spent.
	for _, tc := range []struct {
		status, count int
		order         func()
	}{
		{401, 1, byOperator("fail", `{"count":1,"status":401}`)},
		{429, 2, byOperator("fail", `{"count":2,"status":429,"retry_after":1}`)},
		{500, 1, byHook("failRenewals(1, 500)")},
		{503, 2, byHook("failRenewals(2, 503)")},
	} {
		before := renewFailures(t, ctx, strconv.Itoa(tc.status))
		fresh(t, ctx, fmt.Sprintf("%d renewals failed with %d", tc.count, tc.status), 20*time.Second, func() {
			tc.order()
			labOrder(t, session, "warn", "")
		})
		if got := renewFailures(t, ctx, strconv.Itoa(tc.status)) - before; got != tc.count {
			t.Errorf("%d renewal failures naming %d reported, want the %d ordered", got, tc.status, tc.count)
		}
	}

	// A held renewal: the token comes, late.
	var ordered time.Time
	fresh(t, ctx, "a renewal held 1.5 s", 15*time.Second, func() {
		ordered = time.Now()
		awaited(t, ctx, `window.tokenlab.test.delayRenewals(1500).then(a => a.action)`)
		labOrder(t, session, "warn", "")
	})
	if last := lastCall(t, ctx); time.UnixMilli(last.At).Sub(ordered) < 1500*time.Millisecond {
		t.Errorf("the held renewal's token came %v after the order, want at least 1.5 s", time.UnixMilli(last.At).Sub(ordered))
	}

	// A skewed server's token is what Twilio would refuse as not yet
	// valid (20105): the SDK client says so. Cleared, the next is valid.
	n := len(calls(t, ctx))
	waitNextSecond(t, ctx)
	labOrder(t, session, "skew", `{"seconds":3600}`)
	labOrder(t, session, "expire", "")
	waitFor(t, ctx, `app.client.calls.length > `+strconv.Itoa(n), 10*time.Second)
	if c := lastCall(t, ctx); c.OK || fmt.Sprint(c.Code) != "20105" {
		t.Errorf("the SDK client took the token of a server an hour ahead as ok=%v code=%v (%s), want 20105", c.OK, c.Code, c.Message)
	}
	fresh(t, ctx, "the skew cleared", 10*time.Second, func() {
		labOrder(t, session, "skew", `{"seconds":0}`)
		labOrder(t, session, "expire", "")
	})

	// Dropped sockets reconnect: a warning reaches the page again and
	// brings a fresh token.
	for _, code := range []int{1001, 1006} {
		reconnects := `window.__events.filter(e => e.name === "tokenlab:notice" && e.type === "connected" && e.reconnect).length`
		before := text(t, ctx, `String(`+reconnects+`)`)
		labOrder(t, session, "drop", fmt.Sprintf(`{"code":%d}`, code))
		waitFor(t, ctx, reconnects+` > `+before+` && window.tokenlab.snapshot().connected`, 20*time.Second)
		fresh(t, ctx, fmt.Sprintf("reconnected after a drop with %d", code), 10*time.Second, func() {
			if got := labOrder(t, session, "warn", ""); got.Connections < 1 {
				t.Errorf("after the drop with %d, a warning reached %d tabs, want the reconnected one", code, got.Connections)
			}
		})
	}

	// 4002 says the session reached its absolute lifetime: the embed
	// stops, the app says so and signs in again by calling tokenlab.embed
	// again, in the same page, and its new client starts with a token it
	// never had, for a new session, and gets its renewals.
	checkPage(t, ctx, "session ended")
	seen := map[string]bool{}
	for _, c := range calls(t, ctx) {
		seen[c.JTI] = true
	}
	labOrder(t, session, "drop", `{"code":4002}`)
	waitFor(t, ctx, `document.getElementById("client-status").textContent === "session ended: sign in again"`, 10*time.Second)
	waitNextSecond(t, ctx) // else the new sign-in mints the same token
	// A page load would lose this mark.
	eval(t, ctx, `window.__ended = app.client`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#sign-in-again`))); err != nil {
		t.Fatalf("clicking Sign in again: %v", err)
	}
	waitFor(t, ctx, `window.__ended !== undefined && app.client !== window.__ended && app.client.calls.length === 1`, 15*time.Second)
	if c := lastCall(t, ctx); !c.OK || seen[c.JTI] {
		t.Errorf("signed in again, the SDK client got token %s (ok=%v %v %s), want a fresh one", c.JTI, c.OK, c.Code, c.Message)
	}
	if again := snap(t, ctx).SessionID; again == session || again == "" {
		t.Errorf("signed in again, the session is %q, want a new one", again)
	} else {
		session = again
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
	fresh(t, ctx, "a renewal of the new session", 10*time.Second, byOperator("expire", ""))
	if got := text(t, ctx, `JSON.stringify(window.__events.filter(e => e.name === "tokenlab:token").at(-1).sessionId)`); got != strconv.Quote(session) {
		t.Errorf("the new session's renewal came with sessionId %s, want %q", got, session)
	}

	// Revoked, the session is over: the app shows it, and its client gets
	// no more tokens.
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
	n = len(calls(t, ctx))
	labOrder(t, session, "revoke", "")
	waitFor(t, ctx, `document.getElementById("client-status").textContent === "signed out by tokenlab"`, 10*time.Second)
	if got := len(calls(t, ctx)); got != n {
		t.Errorf("the SDK client got %d tokens after the revoke", got-n)
	}

	checkPage(t, ctx, "revoked")
}

// checkPage fails the test if the page threw, if the SDK client refused a
// token other than the skewed one the test ordered, or if its token ever
// expired: the embed must renew before that, whatever the fault.
func checkPage(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	for _, c := range calls(t, ctx) {
		if !c.OK && fmt.Sprint(c.Code) != "20105" {
			t.Errorf("%s: the SDK client refused token %s: %v %s", when, c.JTI, c.Code, c.Message)
		}
	}
	expired, err := chromedp.Run(ctx, chromedp.Evaluate[int](`app.client.fired.filter(f => f.event === "tokenExpired").length`))
	if err != nil {
		t.Fatal(err)
	}
	if expired > 0 {
		t.Errorf("%s: the SDK client's token expired %d times before a new one came", when, expired)
	}
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__pageErrors`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("%s: the page threw: %s", when, strings.Join(errs, "; "))
	}
}

// fresh runs cause and waits until the app's SDK client has accepted a
// new token. It first waits for the next second, since tokens minted in
// the same second are the same token.
func fresh(t *testing.T, ctx context.Context, what string, limit time.Duration, cause func()) {
	t.Helper()
	n := len(calls(t, ctx))
	waitNextSecond(t, ctx)
	cause()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`app.client.calls.length > `+strconv.Itoa(n),
		chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatalf("%s: the SDK client got no new token within %v: %v", what, limit, err)
	}
	if c := lastCall(t, ctx); !c.OK {
		t.Errorf("%s: the SDK client refused the new token: %v %s", what, c.Code, c.Message)
	}
}

// waitNextSecond waits until the clock has passed the second of the SDK
// client's latest token.
func waitNextSecond(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, `Math.floor(Date.now() / 1000) > Math.floor(app.client.calls.at(-1).at / 1000)`, 3*time.Second)
}

func calls(t *testing.T, ctx context.Context) []standInCall {
	t.Helper()
	c, err := chromedp.Run(ctx, chromedp.Evaluate[[]standInCall](`app.client.calls`))
	if err != nil {
		t.Fatalf("reading the SDK client's calls: %v", err)
	}
	return c
}

func lastCall(t *testing.T, ctx context.Context) standInCall {
	t.Helper()
	c := calls(t, ctx)
	return c[len(c)-1]
}

// renewFailures counts the renewal failures the embed reported whose
// message names status.
func renewFailures(t *testing.T, ctx context.Context, status string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__events.filter(e => e.name === "tokenlab:error" && e.code === "renew_failed" && e.message.includes(`+strconv.Quote(status)+`)).length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// labAnswer is the lab's answer to an order.
type labAnswer struct {
	Action      string `json:"action"`
	Connections int    `json:"connections"`
}

// labOrder orders a fault for a session through the operator route, as a
// test or an operator outside the page does.
func labOrder(t *testing.T, session, action, body string) labAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/admin/sessions/"+session+"/"+action, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /admin/sessions/…/%s: %v", action, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /admin/sessions/…/%s %s: %d %s", action, body, resp.StatusCode, raw)
	}
	var a labAnswer
	json.Unmarshal(raw, &a)
	return a
}
