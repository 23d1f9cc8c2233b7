package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Signing out in a second tab of the same browser revokes the session: the
// first tab gets "revoked" and close code 4001 over its socket, returns to
// the sign-in form and stays there, making no further requests.
func TestLogoutFromAnotherTab(t *testing.T) {
	a := newTab(t, 40*time.Second)
	open(t, a)
	signIn(t, a, "grace", 600)
	waitFor(t, a, `window.tokenlab.snapshot().connected`, 5*time.Second)

	// The second tab resumes the same session from its cookie.
	b := siblingTab(t, a, 30*time.Second)
	open(t, b)
	waitFor(t, b, `window.tokenlab.snapshot().identity === "grace"`, 5*time.Second)
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#logout`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `window.tokenlab.snapshot().status === "signed out"`, 5*time.Second)

	waitFor(t, a, `window.tokenlab.snapshot().status === "signed out" && !document.getElementById("signin").hidden`, 5*time.Second)
	assertStaysSignedOut(t, a)
	r := recorded(t, a)
	var reason any
	for _, e := range r.Events {
		if e.Name == "tokenlab:notice" && e.Detail["type"] == "revoked" {
			reason = e.Detail["reason"]
		}
	}
	if reason != "logout" {
		t.Errorf("revoked notice reason = %v, want logout (events %v)", reason, r.Events)
	}
	if tl := text(t, a, `document.getElementById("timeline").innerText`); !strings.Contains(tl, "revoked") {
		t.Errorf("timeline lacks the revocation:\n%s", tl)
	}
}

// An operator's revoke (POST /admin/sessions/{id}/revoke) ends the session
// in the page the same way.
func TestOperatorRevoke(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	open(t, ctx)
	signIn(t, ctx, "heidi", 600)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)

	id := sessionOf(t, "heidi")
	req, _ := http.NewRequest("POST", baseURL+"/admin/sessions/"+url.PathEscape(id)+"/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke answered %s", resp.Status)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().status === "signed out" && !document.getElementById("signin").hidden`, 5*time.Second)
	assertStaysSignedOut(t, ctx)
}

// sessionOf finds the live session of identity through the operator API.
func sessionOf(t *testing.T, identity string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+"/admin/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Sessions []struct {
			ID       string `json:"id"`
			Identity string `json:"identity"`
		} `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("GET /admin/sessions: %v", err)
	}
	for _, s := range list.Sessions {
		if s.Identity == identity {
			return s.ID
		}
	}
	t.Fatalf("no live session for %s in %+v", identity, list.Sessions)
	return ""
}

// assertStaysSignedOut watches a signed-out page for two seconds: it must
// not reconnect, refresh or loop.
func assertStaysSignedOut(t *testing.T, ctx context.Context) {
	t.Helper()
	count := `performance.getEntriesByType("resource").filter(e => /\/token\/refresh|\/ws/.test(e.name)).length`
	before := text(t, ctx, "String("+count+")")
	time.Sleep(2 * time.Second)
	s := snap(t, ctx)
	if s.Status != "signed out" || s.Connected || s.JTI != "" {
		t.Errorf("after sign-out snapshot() = %+v", s)
	}
	if after := text(t, ctx, "String("+count+")"); after != before {
		t.Errorf("the signed-out page kept calling the server: %s requests, then %s", before, after)
	}
}

// Server errors land beside the field they concern, and as tokenlab:error.
func TestSignInErrorsByField(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#username`), "ivan"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "pw"),
		chromedp.Click(chromedp.CSS(`input[name="grants.chat"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="grants.chat.service_sid"]`), "IS123"),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('[data-error-for="grants.chat.service_sid"]') !== null`, 5*time.Second)
	msg := text(t, ctx, `document.querySelector('[data-error-for="grants.chat.service_sid"]').textContent`)
	if !strings.Contains(msg, "IS followed by 32 hex digits") {
		t.Errorf("error beside the SID: %q", msg)
	}
	if inv := text(t, ctx, `document.querySelector('input[name="grants.chat.service_sid"]').getAttribute("aria-invalid") || ""`); inv != "true" {
		t.Errorf("aria-invalid = %q", inv)
	}

	// A ttl over a day is refused by the server, beside the ttl field.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="grants.chat"]`)),
		chromedp.SendKeys(chromedp.CSS(`#ttl`), "90000"),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('[data-error-for="ttl"]') !== null`, 5*time.Second)
	if n := text(t, ctx, `String(document.querySelectorAll(".field-error[data-error-for]").length)`); n != "1" {
		t.Errorf("%s field errors shown, want only the current one", n)
	}
	r := recorded(t, ctx)
	var fields []string
	for _, e := range r.Events {
		if e.Name == "tokenlab:error" {
			fields = append(fields, e.Detail["field"].(string))
		}
	}
	if strings.Join(fields, ",") != "grants.chat.service_sid,ttl" {
		t.Errorf("tokenlab:error fields = %v", fields)
	}
	if s := snap(t, ctx); s.Status != "signed out" {
		t.Errorf("status %q after failed sign-ins", s.Status)
	}
}
