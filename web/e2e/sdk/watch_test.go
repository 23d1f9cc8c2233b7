package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/shared/token"
)

// A product is one of the two SDKs on twilsock: its page, its global and
// a token with its grant.
type product struct {
	name, path, global string
	token              func(t *testing.T, identity string, ttl time.Duration) string
	// ready is the event after which the client is fully up: Conversations
	// finishes its start-up requests after connecting.
	ready string
	// grants are what its token carries.
	grants token.Grants
}

var products = []product{
	{"sync", "/", "Twilio.Sync", func(t *testing.T, identity string, ttl time.Duration) string {
		return syncToken(t, creds, nil, identity, ttl)
	}, "state:connected", syncGrants},
	{"conversations", "/conversations", "Twilio.Conversations", chatToken, "initialized", chatGrants},
}

// watch opens p's page and has it connect with tok, recording the SDK's
// events (page.html's and conversations.html's window.watch); each
// tokenAboutToExpire is answered with the next of updates.
func watch(t *testing.T, p product, limit time.Duration, tok string, updates ...string) context.Context {
	t.Helper()
	return watchAt(t, p, wsURL, limit, tok, updates...)
}

// watchAt is watch on the twilsock endpoint uri.
func watchAt(t *testing.T, p product, uri string, limit time.Duration, tok string, updates ...string) context.Context {
	t.Helper()
	ctx := openPage(t, limit, p.path, p.global)
	list, _ := json.Marshal(updates)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("window.watch(%q, %q, %s)", uri, tok, list))); err != nil {
		t.Fatalf("connecting the %s client: %v", p.name, err)
	}
	t.Cleanup(func() {
		chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.watched && window.watched.shutdown().catch(() => {})`))
	})
	return ctx
}

// events returns what the page's client reported so far, joined by spaces.
func events(t *testing.T, ctx context.Context) string {
	t.Helper()
	log, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.events`))
	if err != nil {
		t.Fatalf("reading the SDK's events: %v", err)
	}
	return strings.Join(log, " ")
}

// waitEvents waits until the SDK's events match re, failing after within
// with what they were.
func waitEvents(t *testing.T, ctx context.Context, re string, within time.Duration, what string) string {
	t.Helper()
	want := regexp.MustCompile(re)
	js := fmt.Sprintf(`new RegExp(%q).test(window.events.join(" "))`, re)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("%s: the SDK reported %q, want a match for %s (%v)", what, events(t, ctx), want, err)
	}
	return events(t, ctx)
}

// TestServerRestart: a connected client outlives a restart of tokenlab
// (SIGTERM, which closes its socket with 1001, then the same port): it
// goes back to connected by itself with the token it holds, and the new
// server warns it before that token's expiry and accepts its updateToken.
func TestServerRestart(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			// A 20 s token is warned 6.7 s before its exp (renew.Lead's
			// third of the ttl, less its jitter): about 13 s after
			// connecting, time for the restart and the SDK's reconnect
			// (its first retry comes after 1 s, the next after about 2).
			ctx := watch(t, p, 45*time.Second, p.token(t, "restart-"+p.name, 20*time.Second), p.token(t, "restart-"+p.name, time.Minute))
			waitEvents(t, ctx, p.ready, 10*time.Second, "connecting")
			stopServer()
			port := strings.TrimPrefix(baseURL, "http://127.0.0.1:")
			if err := startServer(port); err != nil {
				t.Fatalf("restarting tokenlab on port %s: %v", port, err)
			}
			got := waitEvents(t, ctx, `state:connected .*state:connecting .*state:connected`, 10*time.Second, "reconnecting after the restart")
			if strings.Contains(got, "tokenAboutToExpire") {
				t.Fatalf("the SDK reported %q: warned before it reconnected, the restart took too long for this test's token", got)
			}
			got = waitEvents(t, ctx, `tokenAboutToExpire update:resolved`, 20*time.Second, "the warning after the restart")
			if strings.Contains(got, "tokenExpired") || strings.Contains(got, "connectionError") {
				t.Errorf("the SDK reported %q across the restart, want no error and no expiry", got)
			}
		})
	}
}

// signIn signs identity in to tokenlab (open demo mode) and returns its
// session's id from the operator's list.
func signIn(t *testing.T, identity string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(baseURL+"/token", "application/json", strings.NewReader(`{"username":"`+identity+`","password":"pw","ttl":600}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signing %s in: %s", identity, resp.Status)
	}
	resp, err = client.Get(baseURL + "/admin/sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Sessions []struct{ ID, Identity string } `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("the operator's list: %v", err)
	}
	for _, s := range list.Sessions {
		if s.Identity == identity {
			return s.ID
		}
	}
	t.Fatalf("no session for %s in the operator's list", identity)
	return ""
}

// TestLab: the lab of "Your app in the loop", ordered by an operator for a
// session of the client's identity, reaches the real SDK at once, long
// before its token's own warning: warn now gives tokenAboutToExpire,
// expire now and revoke give tokenExpired.
func TestLab(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, p := range products {
		for _, action := range []string{"warn", "expire", "revoke"} {
			t.Run(p.name+"/"+action, func(t *testing.T) {
				identity := "lab-" + p.name + "-" + action
				id := signIn(t, identity)
				ctx := watch(t, p, 30*time.Second, p.token(t, identity, 10*time.Minute))
				waitEvents(t, ctx, p.ready, 10*time.Second, "connecting")
				resp, err := http.Post(baseURL+"/admin/sessions/"+id+"/"+action, "application/json", nil)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					t.Fatalf("%s: %s %s", action, resp.Status, body)
				}
				want := "tokenExpired"
				if action == "warn" {
					want = "tokenAboutToExpire"
				}
				waitEvents(t, ctx, want, 5*time.Second, "after the lab's "+action)
			})
		}
	}
}

// TestServerRestartPastExpiry: when tokenlab comes back only after the
// client's token expired, the client's reconnect is refused as an expired
// token (20104) and the app sees tokenExpired, for both products (their
// clients are connected side by side, so one restart serves both).
func TestServerRestartPastExpiry(t *testing.T) {
	const ttl = 5 * time.Second
	var tabs []context.Context
	exp := time.Now().Add(ttl) // no token minted below expires later
	for _, p := range products {
		ctx := watch(t, p, 45*time.Second, p.token(t, "gone-"+p.name, ttl))
		waitEvents(t, ctx, p.ready, 5*time.Second, "connecting")
		tabs = append(tabs, ctx)
	}
	stopServer()
	// The server stays down until the tokens are past their exp: the
	// event this test is about is the clock passing exp.
	time.Sleep(time.Until(exp.Add(500 * time.Millisecond)))
	port := strings.TrimPrefix(baseURL, "http://127.0.0.1:")
	if err := startServer(port); err != nil {
		t.Fatalf("restarting tokenlab on port %s: %v", port, err)
	}
	for i, ctx := range tabs {
		got := waitEvents(t, ctx, `state:connecting .*tokenExpired`, 20*time.Second, products[i].name+" reconnecting with an expired token")
		if after := got[strings.LastIndex(got, "state:connecting"):]; strings.Contains(after, "state:connected") {
			t.Errorf("%s: the SDK reported %q: connected again with an expired token", products[i].name, got)
		}
	}
}

// TestWSS: each product's real client connects to a tokenlab that serves
// TLS, over wss://, is warned before its token's expiry and has its
// updateToken accepted, as on ws://.
func TestWSS(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			// A 4 s token is warned about 1.3 s before its exp.
			ctx := watchAt(t, p, wssURL, 20*time.Second, p.token(t, "wss-"+p.name, 4*time.Second), p.token(t, "wss-"+p.name, time.Minute))
			got := waitEvents(t, ctx, `^state:connecting state:connected .*tokenAboutToExpire update:resolved`, 10*time.Second, "over wss://")
			if strings.Contains(got, "tokenExpired") || strings.Contains(got, "connectionError") {
				t.Errorf("the SDK reported %q over wss://, want no error and no expiry", got)
			}
		})
	}
}
