package api_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/token"
)

// sessionKey is the TOKENLAB_SESSION_KEY of the servers under test.
var sessionKey = config.Key(strings.Repeat("k", 32))

// settable is a clock tests move by hand.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settable) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settable) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// signIn signs alice in over the handler and returns the answer and the
// session cookie.
func (s *stack) signIn(tb testing.TB, ttl int) (api.TokenResponse, *http.Cookie) {
	tb.Helper()
	rec := do(tb, s.handler, jsonReq("POST", "/token", `{"username":"alice","password":"pw","ttl":`+itoa(ttl)+`,"grants":{"video":{"room":"lab"}}}`))
	resp := decodeToken(tb, rec)
	ck := sessionCookie(tb, rec.Result().Cookies())
	if ck == nil {
		tb.Fatal("POST /token set no session cookie")
	}
	return resp, ck
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func sessionCookie(tb testing.TB, cookies []*http.Cookie) *http.Cookie {
	tb.Helper()
	for _, c := range cookies {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func refresh(tb testing.TB, h http.Handler, c *http.Cookie) *httptest.ResponseRecorder {
	tb.Helper()
	return do(tb, h, withCookie(httptest.NewRequest("POST", "/token/refresh", nil), c))
}

func TestSignInStartsASession(t *testing.T) {
	s := newStack(t, fixture{})
	resp, ck := s.signIn(t, 600)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Errorf("cookie over plain HTTP: %+v", ck)
	}
	if strings.Contains(ck.Value, "alice") || strings.Contains(ck.Value, "lab") {
		t.Error("the cookie shows the identity or grants in readable form")
	}
	if d := time.Until(ck.Expires); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Errorf("cookie expires in %v, want the session lifetime (1h)", d)
	}
	list := s.hub.Sessions()
	if len(list) != 1 || list[0].Identity != "alice" || list[0].JTI != resp.JTI {
		t.Errorf("hub after sign-in: %+v", list)
	}

	// Over TLS the cookie is Secure.
	r := jsonReq("POST", "/token", `{"username":"alice","password":"pw"}`)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	if ck := sessionCookie(t, do(t, s.handler, r).Result().Cookies()); ck == nil || !ck.Secure {
		t.Errorf("cookie over TLS: %+v", ck)
	}
	// A failed sign-in starts nothing.
	rec := do(t, s.handler, jsonReq("POST", "/token", `{"username":"alice"}`))
	if rec.Code != http.StatusUnauthorized || sessionCookie(t, rec.Result().Cookies()) != nil {
		t.Errorf("failed sign-in: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
}

func TestRefreshMintsForTheSession(t *testing.T) {
	clock := &settable{t: time.Now().Truncate(time.Second)}
	s := newStack(t, fixture{now: clock.now})
	first, ck := s.signIn(t, 600)
	clock.add(2 * time.Second) // past the coalescing window
	rec := refresh(t, s.handler, ck)
	got := decodeToken(t, rec)
	if got.Token == first.Token || got.Identity != "alice" || got.TTL != 600 || got.ExpiresAt != clock.now().Unix()+600 {
		t.Errorf("refresh = %+v after sign-in %+v", got, first)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// The same shape as POST /token, and the same grants.
	var fields map[string]any
	json.Unmarshal(rec.Body.Bytes(), &fields)
	if len(fields) != 6 || fields["session_id"] != first.SessionID || first.SessionID == "" {
		t.Errorf("refresh answer has fields %v, want POST /token's six, the same session_id", fields)
	}
	tok, err := token.Decode(got.Token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Grants.Video == nil || tok.Claims.Grants.Video.Room != "lab" || tok.Claims.Identity() != "alice" {
		t.Errorf("renewed grants %+v", tok.Claims.Grants)
	}
	// A restart with the same configuration (a new stack, same key) keeps
	// the session.
	again := newStack(t, fixture{now: clock.now})
	if rec := refresh(t, again.handler, ck); rec.Code != http.StatusOK {
		t.Errorf("refresh after restart: %d %s", rec.Code, rec.Body)
	}
}

func TestRefreshRefusesBadSessions(t *testing.T) {
	clock := &settable{t: time.Now()}
	s := newStack(t, fixture{now: clock.now})
	_, ck := s.signIn(t, 600)
	other := newStack(t, fixture{now: clock.now, config: func(c *config.Config) { c.SessionKey = config.Key(strings.Repeat("o", 32)) }})
	_, foreign := other.signIn(t, 600)
	b := []byte(ck.Value)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '-' || b[len(b)/2] == '_' {
		b[len(b)/2] = 'A'
	}

	tests := []struct {
		name   string
		cookie *http.Cookie
		code   string
	}{
		{"no cookie", nil, api.CodeNoSession},
		{"altered", &http.Cookie{Name: session.CookieName, Value: string(b)}, api.CodeSessionInvalid},
		{"truncated", &http.Cookie{Name: session.CookieName, Value: ck.Value[:len(ck.Value)/2]}, api.CodeSessionInvalid},
		{"garbage", &http.Cookie{Name: session.CookieName, Value: "not-a-session"}, api.CodeSessionInvalid},
		{"another server's key", foreign, api.CodeSessionInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := refresh(t, s.handler, tt.cookie)
			e := decodeError(t, rec, http.StatusUnauthorized)
			if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, "sign in") {
				t.Errorf("error %+v, want code %s and what to do", e.Error, tt.code)
			}
			if cleared := sessionCookie(t, rec.Result().Cookies()); tt.cookie != nil && (cleared == nil || cleared.MaxAge >= 0) {
				t.Errorf("a cookie that cannot open was not cleared: %+v", cleared)
			}
		})
	}

	t.Run("past the absolute lifetime", func(t *testing.T) {
		clock.add(time.Hour)
		e := decodeError(t, refresh(t, s.handler, ck), http.StatusUnauthorized)
		if e.Error.Code != api.CodeSessionExpired {
			t.Errorf("code %s", e.Error.Code)
		}
	})
}

func TestLogoutEndsTheSession(t *testing.T) {
	s := newStack(t, fixture{})
	_, ck := s.signIn(t, 600)
	_, keep := s.signIn(t, 600)
	rec := do(t, s.handler, withCookie(httptest.NewRequest("POST", "/logout", nil), ck))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	if c := sessionCookie(t, rec.Result().Cookies()); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout did not clear the cookie: %+v", c)
	}
	if e := decodeError(t, refresh(t, s.handler, ck), http.StatusUnauthorized); e.Error.Code != api.CodeSessionRevoked {
		t.Errorf("refresh after logout: %+v", e.Error)
	}
	if rec := refresh(t, s.handler, keep); rec.Code != http.StatusOK {
		t.Errorf("another session of the same user was ended too: %d", rec.Code)
	}
	e := decodeError(t, do(t, s.handler, httptest.NewRequest("POST", "/logout", nil)), http.StatusUnauthorized)
	if e.Error.Code != api.CodeNoSession {
		t.Errorf("logout without a session: %+v", e.Error)
	}
}

func TestRevocationsSurviveARestartWithAStateDir(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *config.Config) { c.StateDir = dir }
	s := newStack(t, fixture{config: withDir})
	_, ck := s.signIn(t, 600)
	do(t, s.handler, withCookie(httptest.NewRequest("POST", "/logout", nil), ck))
	restarted := newStack(t, fixture{config: withDir})
	if e := decodeError(t, refresh(t, restarted.handler, ck), http.StatusUnauthorized); e.Error.Code != api.CodeSessionRevoked {
		t.Errorf("a logged-out cookie after restart: %+v", e.Error)
	}
}

func TestRefreshIsSameOriginOnly(t *testing.T) {
	s := newStack(t, fixture{})
	_, ck := s.signIn(t, 600)
	r := withCookie(httptest.NewRequest("POST", "/token/refresh", nil), ck)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	if e := decodeError(t, do(t, s.handler, r), http.StatusForbidden); e.Error.Code != api.CodeCrossOrigin {
		t.Errorf("cross-site refresh: %+v", e.Error)
	}
}

// TestRememberedSessionsEndAsOthers: a cookie the server has opened before
// (and now answers from memory) is refused after logout and after its
// lifetime, exactly as one opened in full.
func TestRememberedSessionsEndAsOthers(t *testing.T) {
	clock := &settable{t: time.Now()}
	s := newStack(t, fixture{now: clock.now})
	_, leaving := s.signIn(t, 600)
	_, staying := s.signIn(t, 600)
	for _, ck := range []*http.Cookie{leaving, staying, leaving, staying} {
		if rec := refresh(t, s.handler, ck); rec.Code != http.StatusOK {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := do(t, s.handler, withCookie(httptest.NewRequest("POST", "/logout", nil), leaving)); rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	for range 2 {
		if e := decodeError(t, refresh(t, s.handler, leaving), http.StatusUnauthorized); e.Error.Code != api.CodeSessionRevoked {
			t.Fatalf("refresh after logout: %+v", e.Error)
		}
	}
	if rec := refresh(t, s.handler, staying); rec.Code != http.StatusOK {
		t.Fatalf("the other session after a logout: %d %s", rec.Code, rec.Body)
	}
	clock.add(time.Hour)
	if e := decodeError(t, refresh(t, s.handler, staying), http.StatusUnauthorized); e.Error.Code != api.CodeSessionExpired {
		t.Fatalf("refresh past the lifetime: %+v", e.Error)
	}
}

// TestRefreshProbe is the page's question on every load, "does this browser
// have a session?": without a cookie it is answered 204, not an error; a
// cookie that no longer opens still gets its 401 (and is cleared), and a
// good one a token.
func TestRefreshProbe(t *testing.T) {
	clock := &settable{t: time.Now()}
	s := newStack(t, fixture{now: clock.now})
	_, ck := s.signIn(t, 600)
	probe := func(c *http.Cookie) *httptest.ResponseRecorder {
		return do(t, s.handler, withCookie(httptest.NewRequest("POST", "/token/refresh?probe=1", nil), c))
	}
	if rec := probe(nil); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("probe without a cookie: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
	if rec := probe(&http.Cookie{Name: session.CookieName, Value: "not-a-session"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("probe with a broken cookie: %d, want 401", rec.Code)
	}
	if rec := probe(ck); rec.Code != http.StatusOK || decodeToken(t, rec).Token == "" {
		t.Errorf("probe with a session: %d %s", rec.Code, rec.Body)
	}
	// Without the probe, no cookie is still the documented 401.
	decodeError(t, refresh(t, s.handler, nil), http.StatusUnauthorized)
}
