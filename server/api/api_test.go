package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/assemble"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/token"
)

const (
	accountSID = "AC15c1737bf14064d2278d616face3f17f"
	apiKeySID  = "SK21c17013f3face8fdc4e4623b0a9d2c1"
	secret     = "api-key-secret-under-test"
)

var t0 = time.Unix(1_700_000_000, 0)

func mustMinter(tb testing.TB) *mint.Minter {
	tb.Helper()
	m, err := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret}, func() time.Time { return t0 })
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// mustUsersFile holds susan (video, chat) and root (every grant).
func mustUsersFile(tb testing.TB) *users.File {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "users.json")
	for _, u := range []struct {
		name, pw string
		grants   []string
	}{{"susan", "secret", []string{"video", "chat"}}, {"root", "toor", []string{"*"}}} {
		if _, err := users.Put(path, u.name, u.pw, u.grants, bcrypt.MinCost); err != nil {
			tb.Fatal(err)
		}
	}
	f, err := users.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// testHost is the Host of httptest.NewRequest's requests. The handlers
// under test answer for it as an operator's TOKENLAB_ALLOWED_HOSTS makes
// them answer for a name.
const testHost = "example.com"

// fixture is what a test's server differs in from the default: open
// demo mode on the real clock, a fixed session key, a one-hour session
// lifetime, a 60 s warning lead, and testHost allowed.
type fixture struct {
	auth   users.Authenticator // nil: open demo mode
	now    func() time.Time    // nil: time.Now
	log    *slog.Logger        // nil: discarded
	config func(*config.Config)
	hub    func(*hub.Options)
}

// stack is the server as server/assemble builds it, counting its mints.
type stack struct {
	handler  http.Handler
	sessions *session.Manager
	hub      *hub.Hub
	minter   *mint.Minter
	cfg      config.Config
	mints    atomic.Int64
}

// newStack is the one way the API's tests build a server.
func newStack(tb testing.TB, f fixture) *stack {
	tb.Helper()
	cfg := config.Config{SessionKey: sessionKey, SessionLifetime: time.Hour, WarnLead: 60 * time.Second, AllowedHosts: []string{testHost},
		Twilio: mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret}}
	if f.config != nil {
		f.config(&cfg)
	}
	if f.auth == nil {
		f.auth = users.OpenDemo{}
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	s := &stack{cfg: cfg}
	srv, err := assemble.New(cfg, f.log, f.auth, assemble.Options{Now: f.now, Hub: func(o *hub.Options) {
		next := o.Mint
		o.Mint = func(ctx context.Context, ss session.Session) (mint.Minted, error) {
			s.mints.Add(1)
			return next(ctx, ss)
		}
		if f.hub != nil {
			f.hub(o)
		}
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Hub.Shutdown)
	s.handler, s.sessions, s.hub, s.minter = srv.Handler, srv.Sessions, srv.Hub, srv.Minter
	return s
}

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// listen serves the stack on a loopback port until the test ends.
func (s *stack) listen(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(s.handler)
	tb.Cleanup(srv.Close)
	return srv
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func do(tb testing.TB, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if strings.Contains(rec.Body.String(), secret) {
		tb.Fatalf("response reveals the API key secret: %s", rec.Body)
	}
	return rec
}

func jsonReq(method, path, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func formReq(values url.Values) *http.Request {
	r := httptest.NewRequest("POST", "/token", strings.NewReader(values.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func multipartReq(tb testing.TB, fields map[string]string) *http.Request {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	mw.Close()
	r := httptest.NewRequest("POST", "/token", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func basicReq(user, pw, body string) *http.Request {
	r := httptest.NewRequest("POST", "/token", strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.SetBasicAuth(user, pw)
	return r
}

func decodeToken(tb testing.TB, rec *httptest.ResponseRecorder) api.TokenResponse {
	tb.Helper()
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp api.TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		tb.Fatalf("body %s: %v", rec.Body, err)
	}
	return resp
}

func decodeError(tb testing.TB, rec *httptest.ResponseRecorder, status int) errorBody {
	tb.Helper()
	if rec.Code != status {
		tb.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q", ct)
	}
	var e errorBody
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		tb.Fatalf("error body not {\"error\":{code,message,field}}: %v", err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		tb.Errorf("error body lacks code or message: %+v", e)
	}
	return e
}

// TestTutorialRequest is the tutorial's exact request in open demo mode.
func TestTutorialRequest(t *testing.T) {
	h := newStack(t, fixture{auth: users.OpenDemo{}, now: at(t0)}).handler
	rec := do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"secret"}`))
	resp := decodeToken(t, rec)
	if resp.Identity != "susan" || resp.TTL != 3600 || resp.ExpiresAt != t0.Unix()+3600 || resp.JTI != apiKeySID+"-1700000000" {
		t.Errorf("response = %+v", resp)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("tokens must not be cached")
	}
	tok, err := mustMinter(t).Verify(resp.Token)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if tok.Claims.Grants.Video == nil || tok.Claims.Grants.Video.Room != "My Room" || len(tok.Claims.Grants.Keys()) != 1 {
		t.Errorf("default grant = %+v, want video room My Room only", tok.Claims.Grants)
	}
	if tok.Header.Cty != token.ContentTypeFPA {
		t.Errorf("cty = %q", tok.Header.Cty)
	}
}

// TestCredentialStyles signs in with JSON, a form, a multipart form and
// HTTP Basic auth, against a users file and in open demo mode.
func TestCredentialStyles(t *testing.T) {
	styles := []struct {
		name  string
		req   func(user, pw string) *http.Request
		basic bool
	}{
		{"json", func(u, p string) *http.Request {
			b, _ := json.Marshal(map[string]string{"username": u, "password": p})
			return jsonReq("POST", "/token", string(b))
		}, false},
		{"form", func(u, p string) *http.Request { return formReq(url.Values{"username": {u}, "password": {p}}) }, false},
		{"multipart", func(u, p string) *http.Request {
			return multipartReq(t, map[string]string{"username": u, "password": p})
		}, false},
		{"basic", func(u, p string) *http.Request { return basicReq(u, p, "") }, true},
	}
	modes := []struct {
		name     string
		auth     users.Authenticator
		good     [2]string
		badLogin [2]string // refused in this mode
	}{
		{"users file", mustUsersFile(t), [2]string{"susan", "secret"}, [2]string{"susan", "wrong"}},
		{"open demo", users.OpenDemo{}, [2]string{"anyone", "anything"}, [2]string{"anyone", ""}},
	}
	for _, mode := range modes {
		h := newStack(t, fixture{auth: mode.auth, now: at(t0)}).handler
		for _, s := range styles {
			t.Run(mode.name+"/"+s.name, func(t *testing.T) {
				resp := decodeToken(t, do(t, h, s.req(mode.good[0], mode.good[1])))
				if resp.Identity != mode.good[0] {
					t.Errorf("identity %q", resp.Identity)
				}
				rec := do(t, h, s.req(mode.badLogin[0], mode.badLogin[1]))
				e := decodeError(t, rec, http.StatusUnauthorized)
				if e.Error.Code != api.CodeBadCredentials && e.Error.Code != api.CodeMissingCredentials {
					t.Errorf("code %q", e.Error.Code)
				}
				if got := rec.Header().Get("WWW-Authenticate"); (got == `Basic realm="tokenlab"`) != s.basic {
					t.Errorf("WWW-Authenticate = %q with basic=%v", got, s.basic)
				}
			})
		}
	}
}

func TestUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0)}).handler
	a := do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"nope"}`))
	b := do(t, h, jsonReq("POST", "/token", `{"username":"nobody","password":"nope"}`))
	if a.Code != 401 || a.Body.String() != b.Body.String() {
		t.Errorf("answers differ:\n%s\n%s", a.Body, b.Body)
	}
}

func TestTokenRequestOptions(t *testing.T) {
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0)}).handler
	rec := do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"secret","ttl":60,
		"grants":{"chat":{"service_sid":"ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"video":{"room":"standup"}}}`))
	resp := decodeToken(t, rec)
	if resp.TTL != 60 || resp.ExpiresAt != t0.Unix()+60 {
		t.Errorf("ttl %d exp %d", resp.TTL, resp.ExpiresAt)
	}
	tok, err := token.Decode(resp.Token)
	if err != nil {
		t.Fatal(err)
	}
	if g := tok.Claims.Grants; g.Video.Room != "standup" || g.Chat.ServiceSID != "ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || g.Identity != "susan" {
		t.Errorf("grants = %+v", g)
	}
	// The same through a form: ttl as text, grants as a JSON string.
	rec = do(t, h, formReq(url.Values{"username": {"susan"}, "password": {"secret"}, "ttl": {"120"}, "grants": {`{"video":{}}`}}))
	if resp := decodeToken(t, rec); resp.TTL != 120 {
		t.Errorf("form ttl %d", resp.TTL)
	}
	// Basic auth with options in a JSON body.
	rec = do(t, h, basicReq("susan", "secret", `{"ttl":30}`))
	if resp := decodeToken(t, rec); resp.TTL != 30 || resp.Identity != "susan" {
		t.Errorf("basic+body: %+v", resp)
	}
	// An empty grants object asks for nothing in particular: the default.
	rec = do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"secret","grants":{}}`))
	tok, _ = token.Decode(decodeToken(t, rec).Token)
	if tok.Claims.Grants.Video == nil || tok.Claims.Grants.Video.Room != "My Room" {
		t.Errorf("grants {} = %+v", tok.Claims.Grants)
	}
}

func TestTokenBadRequests(t *testing.T) {
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0)}).handler
	const creds = `"username":"susan","password":"secret"`
	tests := []struct {
		name      string
		req       *http.Request
		status    int
		code      string
		wantField string
	}{
		{"ttl 0", jsonReq("POST", "/token", `{`+creds+`,"ttl":0}`), 400, api.CodeInvalidField, "ttl"},
		{"ttl -1", jsonReq("POST", "/token", `{`+creds+`,"ttl":-1}`), 400, api.CodeInvalidField, "ttl"},
		{"ttl 86401", jsonReq("POST", "/token", `{`+creds+`,"ttl":86401}`), 400, api.CodeInvalidField, "ttl"},
		{"ttl as a string", jsonReq("POST", "/token", `{`+creds+`,"ttl":"3600"}`), 400, api.CodeInvalidField, "ttl"},
		{"ttl with a fraction", jsonReq("POST", "/token", `{`+creds+`,"ttl":60.5}`), 400, api.CodeInvalidField, "ttl"},
		{"form ttl not a number", formReq(url.Values{"username": {"susan"}, "password": {"secret"}, "ttl": {"1h"}}), 400, api.CodeInvalidField, "ttl"},
		{"username not a string", jsonReq("POST", "/token", `{"username":7,"password":"secret"}`), 400, api.CodeInvalidField, "username"},
		{"username with a control character", jsonReq("POST", "/token", `{"username":"su\u0007san","password":"x"}`), 400, api.CodeInvalidField, "username"},
		{"unknown field", jsonReq("POST", "/token", `{`+creds+`,"tll":60}`), 400, api.CodeUnknownField, "tll"},
		{"not JSON", jsonReq("POST", "/token", `{"username":`), 400, api.CodeBadJSON, ""},
		{"JSON array", jsonReq("POST", "/token", `[1]`), 400, api.CodeBadJSON, ""},
		{"two objects", jsonReq("POST", "/token", `{}{}`), 400, api.CodeBadJSON, ""},
		{"unknown grant", jsonReq("POST", "/token", `{`+creds+`,"grants":{"fax":{}}}`), 400, api.CodeInvalidField, "grants.fax"},
		{"grant field wrong type", jsonReq("POST", "/token", `{`+creds+`,"grants":{"video":{"room":5}}}`), 400, api.CodeInvalidField, "grants.video.room"},
		{"grant not an object", jsonReq("POST", "/token", `{`+creds+`,"grants":{"video":"all"}}`), 400, api.CodeInvalidField, "grants.video"},
		{"grants not an object", jsonReq("POST", "/token", `{`+creds+`,"grants":[]}`), 400, api.CodeInvalidField, "grants"},
		{"bad SID", jsonReq("POST", "/token", `{`+creds+`,"grants":{"chat":{"service_sid":"IS12"}}}`), 400, api.CodeInvalidField, "grants.chat.service_sid"},
		{"someone else's identity", jsonReq("POST", "/token", `{`+creds+`,"grants":{"identity":"root","video":{}}}`), 400, api.CodeInvalidField, "grants.identity"},
		{"form grants not JSON", formReq(url.Values{"username": {"susan"}, "password": {"secret"}, "grants": {"video"}}), 400, api.CodeInvalidField, "grants"},
		{"missing password", jsonReq("POST", "/token", `{"username":"susan"}`), 401, api.CodeMissingCredentials, ""},
		{"missing username", jsonReq("POST", "/token", `{"password":"secret"}`), 401, api.CodeMissingCredentials, ""},
		{"empty body", httptest.NewRequest("POST", "/token", nil), 401, api.CodeMissingCredentials, ""},
		{"grant outside the policy", jsonReq("POST", "/token", `{`+creds+`,"grants":{"video":{},"voice":{"incoming":{"allow":true}}}}`), 403, api.CodeGrantNotAllowed, "grants.voice"},
		{"plain text", func() *http.Request {
			r := httptest.NewRequest("POST", "/token", strings.NewReader("susan secret"))
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), 415, api.CodeUnsupportedMedia, ""},
		{"body over 64 KiB", jsonReq("POST", "/token", `{`+creds+`,"grants":{"player":{"x":"`+strings.Repeat("a", api.MaxBodyBytes)+`"}}}`), 413, api.CodeBodyTooLarge, ""},
		{"form over 64 KiB", formReq(url.Values{"username": {"susan"}, "password": {strings.Repeat("a", api.MaxBodyBytes)}}), 413, api.CodeBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeError(t, do(t, h, tt.req), tt.status)
			if e.Error.Code != tt.code || e.Error.Field != tt.wantField {
				t.Errorf("code %q field %q, want %q %q (%s)", e.Error.Code, e.Error.Field, tt.code, tt.wantField, e.Error.Message)
			}
			if tt.wantField != "" && !strings.Contains(e.Error.Message, tt.wantField) {
				t.Errorf("message %q should name %s", e.Error.Message, tt.wantField)
			}
		})
	}
}

func TestGrantPolicyAllowsStar(t *testing.T) {
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0)}).handler
	rec := do(t, h, jsonReq("POST", "/token", `{"username":"root","password":"toor","grants":{"voice":{"incoming":{"allow":true}}}}`))
	decodeToken(t, rec)
}

func TestMethodsAndRoutes(t *testing.T) {
	h := newStack(t, fixture{auth: users.OpenDemo{}, now: at(t0)}).handler
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/token", 405, "POST"},
		{"DELETE", "/token", 405, "POST"},
		{"GET", "/token/verify", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"POST", "/", 405, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := do(t, h, httptest.NewRequest(tt.method, tt.path, nil))
			e := decodeError(t, rec, tt.status)
			if rec.Header().Get("Allow") != tt.allow || e.Error.Code != api.CodeMethodNotAllowed {
				t.Errorf("Allow %q code %q", rec.Header().Get("Allow"), e.Error.Code)
			}
		})
	}
	rec := do(t, h, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("page: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestCrossOrigin(t *testing.T) {
	h := newStack(t, fixture{now: at(t0), config: func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.com"} }}).handler
	body := `{"username":"susan","password":"secret"}`
	cross := jsonReq("POST", "/token", body)
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	cross.Header.Set("Origin", "https://evil.example.com")
	e := decodeError(t, do(t, h, cross), http.StatusForbidden)
	if e.Error.Code != api.CodeCrossOrigin {
		t.Errorf("code %q", e.Error.Code)
	}
	trusted := jsonReq("POST", "/token", body)
	trusted.Header.Set("Sec-Fetch-Site", "cross-site")
	trusted.Header.Set("Origin", "https://app.example.com")
	decodeToken(t, do(t, h, trusted))
	same := jsonReq("POST", "/token", body)
	same.Header.Set("Sec-Fetch-Site", "same-origin")
	decodeToken(t, do(t, h, same))
	// curl sends neither header: allowed, as the tutorial needs.
	decodeToken(t, do(t, h, jsonReq("POST", "/token", body)))
}

func TestVerifyEndpoint(t *testing.T) {
	later := t0
	h := newStack(t, fixture{now: func() time.Time { return later }}).handler
	good := decodeToken(t, do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"secret","ttl":60}`))).Token
	other, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: "other"}, nil)
	forged, _ := other.Mint("susan", api.DefaultGrants(), time.Hour)

	check := func(raw string) api.VerifyResponse {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"token": raw})
		rec := do(t, h, jsonReq("POST", "/token/verify", string(b)))
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var v api.VerifyResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := check(good); !v.Valid || v.Expired || !strings.Contains(v.Reason, apiKeySID) {
		t.Errorf("good: %+v", v)
	}
	if v := check(forged.Token); v.Valid || !strings.Contains(v.Reason, "signature") {
		t.Errorf("forged: %+v", v)
	}
	if v := check("not.a-token"); v.Valid || v.Reason == "" {
		t.Errorf("garbage: %+v", v)
	}
	later = t0.Add(2 * time.Minute)
	if v := check(good); !v.Valid || !v.Expired {
		t.Errorf("expired: %+v", v)
	}
	e := decodeError(t, do(t, h, jsonReq("POST", "/token/verify", `{}`)), 400)
	if e.Error.Field != "token" {
		t.Errorf("missing token: %+v", e)
	}

	// A form works as JSON does (curl -d token=…), as strictly.
	form := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/token/verify", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, h, r)
	}
	later = t0
	rec := form("token=" + url.QueryEscape(good))
	var v api.VerifyResponse
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &v) != nil || !v.Valid {
		t.Errorf("form body: %d %s", rec.Code, rec.Body)
	}
	for _, tt := range []struct{ body, code, field string }{
		{"", api.CodeInvalidField, "token"},
		{"token=a.b.c&token=d.e.f", api.CodeDuplicateField, "token"},
		{"tokn=a.b.c", api.CodeUnknownField, "tokn"},
	} {
		if e := decodeError(t, form(tt.body), 400); e.Error.Code != tt.code || e.Error.Field != tt.field {
			t.Errorf("form %q: %+v, want %s on %s", tt.body, e, tt.code, tt.field)
		}
	}
	e = decodeError(t, do(t, h, func() *http.Request {
		r := httptest.NewRequest("POST", "/token/verify", strings.NewReader(good))
		r.Header.Set("Content-Type", "text/plain")
		return r
	}()), 415)
	if !strings.Contains(e.Error.Message, "token=<the JWT>") {
		t.Errorf("415 should say what the endpoint takes: %+v", e)
	}
}

// A sign-in starts a session: the answer sets its cookie and the hub
// holds its token. When the session cannot start (the server is shutting
// down), the sign-in fails with 503 and hands out no token and no session.
func TestSignInStartsSession(t *testing.T) {
	s := newStack(t, fixture{now: at(t0)})
	rec := do(t, s.handler, jsonReq("POST", "/token", `{"username":"susan","password":"x"}`))
	resp := decodeToken(t, rec)
	if sessionCookie(t, rec.Result().Cookies()) == nil {
		t.Error("no session cookie")
	}
	if live := s.hub.Sessions(); len(live) != 1 || live[0].JTI != resp.JTI || live[0].Identity != "susan" {
		t.Errorf("the hub holds %+v, want susan's session with %s", live, resp.JTI)
	}
	s.hub.Shutdown()
	rec = do(t, s.handler, jsonReq("POST", "/token", `{"username":"susan","password":"x"}`))
	e := decodeError(t, rec, http.StatusServiceUnavailable)
	if e.Error.Code != api.CodeUnavailable || strings.Contains(rec.Body.String(), `"token"`) || sessionCookie(t, rec.Result().Cookies()) != nil {
		t.Errorf("sign-in while shutting down: %s, cookies %v", rec.Body, rec.Result().Cookies())
	}
}

// panicAuth panics on every sign-in.
type panicAuth struct{ users.OpenDemo }

func (panicAuth) Authenticate(context.Context, string, string) (users.User, error) { panic("boom") }

func TestPanicsBecomeJSON500(t *testing.T) {
	h := newStack(t, fixture{auth: panicAuth{}}).handler
	e := decodeError(t, do(t, h, jsonReq("POST", "/token", `{"username":"susan","password":"x"}`)), 500)
	if strings.Contains(e.Error.Message, "boom") {
		t.Error("panic detail leaked")
	}
}

// TestOverRealServer runs one sign-in through net/http end to end, with
// the body limit applied by a real connection.
func TestOverRealServer(t *testing.T) {
	srv := httptest.NewServer(newStack(t, fixture{auth: users.OpenDemo{}, now: at(t0)}).handler)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/token", "application/json", strings.NewReader(`{"username":"susan","password":"secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"identity":"susan"`) {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}
