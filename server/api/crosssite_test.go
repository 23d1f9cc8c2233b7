package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/users"
)

// forgery dresses a request as a browser on another site (or an old
// browser, or a form) would send it.
type forgery struct {
	name    string
	headers map[string]string
	body    string
	status  int
	code    string
}

// forgeries are the ways another site can make a victim's browser send a
// cookie-carrying POST; each must be refused. legitimate are the requests
// the page and the CLI send.
var (
	forgeries = []forgery{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, "", 403, api.CodeCrossOrigin},
		{"cross-site, Sec-Fetch-Site only", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", 403, api.CodeCrossOrigin},
		{"sibling subdomain (same-site)", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://x.example"}, "", 403, api.CodeCrossOrigin},
		{"old browser, Origin only", map[string]string{"Origin": "https://evil.example"}, "", 403, api.CodeCrossOrigin},
		{"sandboxed frame, Origin null", map[string]string{"Origin": "null"}, "", 403, api.CodeCrossOrigin},
		{"cross-site form", map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, "a=b", 403, api.CodeCrossOrigin},
		// With neither header (a very old browser, or a privacy proxy that
		// strips them), the body's type is the last line: a form or
		// text/plain is what a page can send without a preflight.
		{"form, no origin headers", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "a=b", 415, api.CodeUnsupportedMedia},
		{"text/plain, no origin headers", map[string]string{"Content-Type": "text/plain"}, `{"x":1}`, 415, api.CodeUnsupportedMedia},
		{"multipart, no origin headers", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415, api.CodeUnsupportedMedia},
		{"untyped body, no origin headers", nil, "a=b", 415, api.CodeUnsupportedMedia},
		{"form type, empty body", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "", 415, api.CodeUnsupportedMedia},
	}
	legitimate = []forgery{
		{"the page (same-origin JSON)", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com", "Content-Type": "application/json"}, "", 0, ""},
		{"curl, no headers", nil, "", 0, ""},
		{"a JSON body", map[string]string{"Content-Type": "application/json; charset=utf-8"}, "{}", 0, ""},
		{"typed in the address bar (Sec-Fetch-Site none)", map[string]string{"Sec-Fetch-Site": "none"}, "", 0, ""},
	}
)

func (f forgery) request(method, path string) *http.Request {
	var r *http.Request
	if f.body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(f.body))
	}
	for k, v := range f.headers {
		r.Header.Set(k, v)
	}
	return r
}

// TestCookieRoutesRefuseCrossSite forges each cookie-authenticated state
// change from another site and checks it is refused and had no effect:
// the session still renews afterwards.
func TestCookieRoutesRefuseCrossSite(t *testing.T) {
	routes := []struct {
		name, path string
		ok         int
	}{
		{"refresh", "/token/refresh", http.StatusOK},
		{"logout", "/logout", http.StatusNoContent},
		{"operator revoke", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA/revoke", http.StatusOK},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			s := newStack(t, fixture{})
			_, ck := s.signIn(t, 600)
			for _, f := range forgeries {
				r := withCookie(f.request("POST", rt.path), ck)
				r.RemoteAddr = "127.0.0.1:5000" // the operator routes answer loopback
				e := decodeError(t, do(t, s.handler, r), f.status)
				if e.Error.Code != f.code {
					t.Errorf("%s: code %s, want %s", f.name, e.Error.Code, f.code)
				}
				if rec := refresh(t, s.handler, ck); rec.Code != http.StatusOK {
					t.Fatalf("after a refused %s, the session no longer renews: %d %s", f.name, rec.Code, rec.Body)
				}
			}
			for _, f := range legitimate {
				_, ck := s.signIn(t, 600)
				r := withCookie(f.request("POST", rt.path), ck)
				r.RemoteAddr = "127.0.0.1:5000"
				if rec := do(t, s.handler, r); rec.Code != rt.ok {
					t.Errorf("%s: %d %s, want %d", f.name, rec.Code, rec.Body, rt.ok)
				}
			}
		})
	}
}

// TestSignInRefusesCrossSite: a forged sign-in would put the victim's
// browser in the attacker's session (login CSRF), so POST /token, the
// classic form endpoint, refuses other sites too.
func TestSignInRefusesCrossSite(t *testing.T) {
	s := newStack(t, fixture{})
	form := url.Values{"username": {"mallory"}, "password": {"pw"}}.Encode()
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		r := httptest.NewRequest("POST", "/token", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			r.Header.Set(k, v)
		}
		rec := do(t, s.handler, r)
		if e := decodeError(t, rec, http.StatusForbidden); e.Error.Code != api.CodeCrossOrigin {
			t.Errorf("%v: %+v", h, e.Error)
		}
		if len(rec.Result().Cookies()) != 0 {
			t.Errorf("%v: a refused sign-in set a cookie", h)
		}
	}
}

// csp parses a Content-Security-Policy into its directives.
func csp(tb testing.TB, policy string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := out[f[0]]; dup {
			tb.Errorf("directive %s given twice in %q", f[0], policy)
		}
		out[f[0]] = f[1:]
	}
	return out
}

// TestPagePolicy reads the page's Content-Security-Policy: the page runs
// its own script and wasm, talks to its own origin only (which covers its
// WebSocket), and cannot be framed or have its base or forms redirected.
func TestPagePolicy(t *testing.T) {
	h := newStack(t, fixture{auth: users.OpenDemo{}, now: at(t0)}).handler
	for _, path := range []string{"/", "/index.html"} {
		rec := do(t, h, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		p := csp(t, rec.Header().Get("Content-Security-Policy"))
		oneOf := func(directive string, allowed ...string) {
			t.Helper()
			got := p[directive]
			if len(got) != 1 || !slices.Contains(allowed, got[0]) {
				t.Errorf("%s %v, want one of %v", directive, got, allowed)
			}
		}
		oneOf("default-src", "'none'", "'self'")
		oneOf("frame-ancestors", "'none'")
		oneOf("base-uri", "'none'")
		oneOf("form-action", "'none'", "'self'")
		oneOf("connect-src", "'self'")
		script := p["script-src"]
		slices.Sort(script)
		if !slices.Equal(script, []string{"'self'", "'wasm-unsafe-eval'"}) {
			t.Errorf("script-src %v, want exactly 'self' 'wasm-unsafe-eval'", p["script-src"])
		}
		for directive, sources := range p {
			for _, src := range sources {
				if src == "'unsafe-inline'" || src == "'unsafe-eval'" || src == "*" || strings.HasSuffix(src, ":") && src != "data:" ||
					strings.Contains(src, "://") {
					t.Errorf("%s allows %s: nothing may come from elsewhere", directive, src)
				}
			}
		}
		if p["object-src"] != nil || p["default-src"][0] == "'none'" && p["style-src"] == nil {
			// default-src 'none' needs style-src for the stylesheet.
			t.Errorf("policy %v", p)
		}
	}
}

// TestSecurityHeadersEverywhere checks every kind of answer: the page,
// its assets, JSON successes and errors of each family.
func TestSecurityHeadersEverywhere(t *testing.T) {
	s := newStack(t, fixture{})
	_, ck := s.signIn(t, 600)
	requests := []struct {
		name   string
		req    *http.Request
		status int
		api    bool // a JSON answer: never cached, never framed
	}{
		{"page", httptest.NewRequest("GET", "/", nil), 200, false},
		{"script", httptest.NewRequest("GET", "/app.js", nil), 200, false},
		{"stylesheet", httptest.NewRequest("GET", "/style.css", nil), 200, false},
		{"wasm_exec.js", httptest.NewRequest("GET", "/gen/wasm_exec.js", nil), 0, false},
		{"embed", httptest.NewRequest("GET", "/embed.js", nil), 0, false},
		{"health", httptest.NewRequest("GET", "/healthz", nil), 200, true},
		{"sign-in", jsonReq("POST", "/token", `{"username":"a","password":"b"}`), 200, true},
		{"sign-in error", jsonReq("POST", "/token", `{`), 400, true},
		{"refresh", withCookie(httptest.NewRequest("POST", "/token/refresh", nil), ck), 200, true},
		{"refresh without a session", httptest.NewRequest("POST", "/token/refresh", nil), 401, true},
		{"verify", jsonReq("POST", "/token/verify", `{"token":"a.b.c"}`), 200, true},
		{"not found", httptest.NewRequest("GET", "/nope/../../etc/passwd", nil), 0, true},
		{"wrong method", httptest.NewRequest("DELETE", "/token", nil), 405, true},
		{"cross-origin", func() *http.Request {
			r := httptest.NewRequest("POST", "/logout", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}(), 403, true},
		{"operator list", adminReq("GET", "/admin/sessions", "127.0.0.1:1", ""), 200, true},
	}
	for _, tt := range requests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, s.handler, tt.req)
			if tt.status != 0 && rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			h := rec.Header()
			// The embed and the program it loads are for pages on any
			// origin: everything else stays same-origin.
			corp := "same-origin"
			if p := tt.req.URL.Path; p == "/embed.js" || strings.HasPrefix(p, "/gen/") {
				corp = "cross-origin"
			}
			for k, want := range map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"Referrer-Policy":              "no-referrer",
				"X-Frame-Options":              "DENY",
				"Cross-Origin-Resource-Policy": corp,
			} {
				// Read from the map itself: a name set without
				// canonicalising must still be the canonical one, once.
				if got := h[k]; !slices.Equal(got, []string{want}) {
					t.Errorf("%s: %q, want [%q]", k, got, want)
				}
			}
			// Left out on purpose: it would cost a fresh browser a new
			// renderer process before the page's first paint (see
			// securityHeaders).
			if got, ok := h["Cross-Origin-Opener-Policy"]; ok {
				t.Errorf("Cross-Origin-Opener-Policy %q is set", got)
			}
			if p := csp(t, h.Get("Content-Security-Policy")); !slices.Equal(p["frame-ancestors"], []string{"'none'"}) {
				t.Errorf("Content-Security-Policy %q lacks frame-ancestors 'none'", h.Get("Content-Security-Policy"))
			}
			if tt.api {
				if got := h.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q on an API answer, want no-store", got)
				}
				if p := csp(t, h.Get("Content-Security-Policy")); !slices.Equal(p["default-src"], []string{"'none'"}) {
					t.Errorf("API answer policy %q, want default-src 'none'", h.Get("Content-Security-Policy"))
				}
			}
		})
	}
}
