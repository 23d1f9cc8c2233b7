package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/device"
	"github.com/tokenlab/tokenlab/server/session"
)

// crossSiteApp is a page on another site than the server's, listed in
// TOKENLAB_ALLOWED_ORIGINS.
const crossSiteApp = "https://app.test"

// postFrom sends a browser's POST from a page at origin, of site fetchSite
// ("cross-site", "same-site", "same-origin"), with the session cookie
// value when it is not "", over the server's own client.
func postFrom(tb testing.TB, srv *httptest.Server, path, origin, fetchSite, cookie, body string) *http.Response {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", fetchSite)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: cookie})
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// setCookie is the Set-Cookie line of the session cookie, "" for none.
func setCookie(resp *http.Response) string { return setCookieNamed(resp, session.CookieName) }

func setCookieNamed(resp *http.Response, name string) string {
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line
		}
	}
	return ""
}

// TestCrossSiteSessionCookieUnderTLS: a page on another site, listed in
// TOKENLAB_ALLOWED_ORIGINS, signs in over TLS and gets a session cookie
// its browser will send back from that site (SameSite=None; Secure;
// Partitioned, HttpOnly); same-site and plain-HTTP sign-ins keep
// SameSite=Strict; logging out clears the cookie in its partition.
func TestCrossSiteSessionCookieUnderTLS(t *testing.T) {
	s := newStack(t, fixture{config: func(c *config.Config) { c.AllowedOrigins = []string{crossSiteApp, "http://localhost:3000"} }})
	tlsSrv := httptest.NewTLSServer(s.handler)
	t.Cleanup(tlsSrv.Close)
	plain := s.listen(t)
	signIn := `{"username":"crosssite","password":"pw","ttl":600}`

	resp := postFrom(t, tlsSrv, "/token", crossSiteApp, "cross-site", "", signIn)
	c := sessionCookie(t, resp.Cookies())
	if resp.StatusCode != 200 || c == nil {
		t.Fatalf("cross-site sign-in over TLS: %d, cookie %v", resp.StatusCode, c)
	}
	// The device cookie (known browsers' sign-ins) comes back the same way.
	for _, raw := range []string{setCookie(resp), setCookieNamed(resp, device.CookieName)} {
		for _, want := range []string{"SameSite=None", "Secure", "Partitioned", "HttpOnly"} {
			if !strings.Contains(raw, want) {
				t.Errorf("cross-site cookie %q lacks %s", raw, want)
			}
		}
	}
	raw := setCookie(resp)
	if resp.Header.Get("Access-Control-Allow-Origin") != crossSiteApp || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("cross-site sign-in CORS headers: %v", resp.Header)
	}
	// The program reads the server's clock from Date: the app's page may
	// read it.
	if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Date") {
		t.Errorf("Access-Control-Expose-Headers %q, want Date", got)
	}
	// The browser sends it back from that site: renewals work.
	if r := postFrom(t, tlsSrv, "/token/refresh", crossSiteApp, "cross-site", c.Value, ""); r.StatusCode != 200 {
		t.Errorf("cross-site refresh with the cookie: %d", r.StatusCode)
	}

	for _, tt := range []struct {
		name          string
		srv           *httptest.Server
		origin, fetch string
	}{
		{"same site over TLS", tlsSrv, "http://localhost:3000", "same-site"},
		{"same origin over TLS", tlsSrv, tlsSrv.URL, "same-origin"},
		{"cross-site without TLS", plain, crossSiteApp, "cross-site"},
	} {
		resp := postFrom(t, tt.srv, "/token", tt.origin, tt.fetch, "", signIn)
		raw := setCookie(resp)
		if resp.StatusCode != 200 || !strings.Contains(raw, "SameSite=Strict") || strings.Contains(raw, "Partitioned") {
			t.Errorf("%s: %d, cookie %q, want SameSite=Strict, not partitioned", tt.name, resp.StatusCode, raw)
		}
	}

	// Logging out from the app clears the cookie where it lives.
	resp = postFrom(t, tlsSrv, "/logout", crossSiteApp, "cross-site", c.Value, "")
	raw = setCookie(resp)
	if resp.StatusCode != 204 || !strings.Contains(raw, "Max-Age=0") || !strings.Contains(raw, "Partitioned") || !strings.Contains(raw, "SameSite=None") {
		t.Errorf("cross-site logout: %d, cookie %q, want it cleared in its partition", resp.StatusCode, raw)
	}
}

// TestCrossSiteCookieRefusedToOtherSites attacks a cross-site session from
// sites not in the list, in parallel, with the session's own cookie (a
// browser would not even send it: it is partitioned to the app's site):
// every request is refused before it touches the session, none gets a
// cookie, and the session still renews for its app afterwards.
func TestCrossSiteCookieRefusedToOtherSites(t *testing.T) {
	s := newStack(t, fixture{config: func(c *config.Config) { c.AllowedOrigins = []string{crossSiteApp} }})
	srv := httptest.NewTLSServer(s.handler)
	t.Cleanup(srv.Close)
	c := sessionCookie(t, postFrom(t, srv, "/token", crossSiteApp, "cross-site", "", `{"username":"victim","password":"pw","ttl":600}`).Cookies())
	if c == nil {
		t.Fatal("no cookie for the app")
	}
	evil := []string{"https://evil.test", "http://app.test", "https://app.test:444", "https://app.test.evil.test", "null"}
	paths := []string{"/token/refresh", "/logout", "/lab/expire", "/token"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	type result struct {
		origin, path string
		status       int
		cookie       string
	}
	results := make(chan result, len(evil)*len(paths))
	for _, origin := range evil {
		for _, path := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				body := ""
				if path == "/token" {
					body = `{"username":"victim","password":"pw"}`
				}
				resp := postFrom(t, srv, path, origin, "cross-site", c.Value, body)
				results <- result{origin, path, resp.StatusCode, strings.Join(resp.Header.Values("Set-Cookie"), "; ")}
			}()
		}
	}
	close(start)
	wg.Wait()
	close(results)
	for r := range results {
		if r.status != http.StatusForbidden || r.cookie != "" {
			t.Errorf("%s from %s: %d, Set-Cookie %q, want 403 and no cookie", r.path, r.origin, r.status, r.cookie)
		}
	}
	if r := postFrom(t, srv, "/token/refresh", crossSiteApp, "cross-site", c.Value, ""); r.StatusCode != 200 {
		t.Errorf("the app's session after the attack: refresh %d, want 200", r.StatusCode)
	}
}
