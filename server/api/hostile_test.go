package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// hostile is a real server (a loopback listener, the real handler, users
// file, sessions and hub) for the hostile-input battery.
type hostile struct {
	srv      *httptest.Server
	sessions *session.Manager
	hub      *hub.Hub
	// client and dialer trust the server's certificate when it speaks TLS.
	client *http.Client
	dialer *websocket.Dialer
}

// transports lists the battery's two runs: plain HTTP, and once over TLS
// (HTTPS and WSS), as a server with TOKENLAB_TLS=on serves.
var transports = []struct {
	name string
	tls  bool
}{{"http", false}, {"tls", true}}

// wsURL is the server's WebSocket URL for path: ws:// or wss://.
func (s *hostile) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + path
}

func newHostile(tb testing.TB) *hostile { return newHostileOver(tb, false) }

func newHostileOver(tb testing.TB, overTLS bool, edits ...func(*config.Config)) *hostile {
	tb.Helper()
	st := newStack(tb, fixture{auth: mustUsersFile(tb), config: func(c *config.Config) {
		c.WarnLead = time.Minute
		// Two failures per username; the battery fails twice at most for
		// each user but "limited", whose third attempt gets 429.
		c.SignInLimitUser = config.Limit{N: 2, Per: time.Hour}
		for _, edit := range edits {
			edit(c)
		}
	}})
	srv := httptest.NewUnstartedServer(st.handler)
	s := &hostile{srv: srv, sessions: st.sessions, hub: st.hub, dialer: &websocket.Dialer{HandshakeTimeout: 10 * time.Second}}
	if overTLS {
		srv.StartTLS()
		s.dialer.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	} else {
		srv.Start()
	}
	s.client = srv.Client()
	s.client.Timeout = 10 * time.Second
	tb.Cleanup(srv.Close)
	return s
}

// signIn signs susan in and returns her session cookie's value.
func (s *hostile) signIn(tb testing.TB) string {
	tb.Helper()
	resp, err := s.client.Post(s.srv.URL+"/token", "application/json", strings.NewReader(`{"username":"susan","password":"secret","ttl":600}`))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if c := sessionCookie(tb, resp.Cookies()); resp.StatusCode == 200 && c != nil {
		return c.Value
	}
	tb.Fatalf("sign-in: %d", resp.StatusCode)
	return ""
}

// healthy checks the server still serves after an attack.
func (s *hostile) healthy(tb testing.TB) {
	tb.Helper()
	resp, err := s.client.Get(s.srv.URL + "/healthz")
	if err != nil {
		tb.Fatalf("GET /healthz after the attack: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body["status"] != "ok" {
		tb.Fatalf("GET /healthz after the attack: %d %v %v", resp.StatusCode, body, err)
	}
}

// cookies are the session cookies an attack may carry, made once per run.
type cookies map[string]string

func (s *hostile) cookies(tb testing.TB) cookies {
	tb.Helper()
	valid := s.signIn(tb)
	revoked := s.signIn(tb)
	req, _ := http.NewRequest("POST", s.srv.URL+"/logout", nil)
	req.AddCookie(&http.Cookie{Name: session.CookieName, Value: revoked})
	if resp, err := s.client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("logout: %v", err)
	}
	// The same session sealed by a server with another key.
	otherKey, _ := session.DeriveKey([]byte("another server's session key, 32+ bytes"))
	other, err := session.NewManager(session.Options{Key: otherKey, Lifetime: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := s.sessions.Open(valid)
	if err != nil {
		tb.Fatal(err)
	}
	foreign, err := other.Seal(sess)
	if err != nil {
		tb.Fatal(err)
	}
	// One changed character in the middle of the sealed value.
	b := []byte(valid)
	mid := len(b) / 2
	if b[mid] == 'A' {
		b[mid] = 'B'
	} else {
		b[mid] = 'A'
	}
	return cookies{
		"valid":     valid,
		"revoked":   revoked,
		"tampered":  string(b),
		"truncated": valid[:len(valid)-10],
		"foreign":   foreign,
		"garbage":   "not!base64url*",
		"overlong":  strings.Repeat("A", 4000),
		"empty":     "",
	}
}

// httpAttack is one hostile HTTP request and the exact answer it must get.
type httpAttack struct {
	name        string
	method      string
	path        string
	contentType string // "" sends none
	body        string
	header      map[string]string
	cookie      string // a key of cookies; "" sends none
	basic       [2]string
	host        string // the Host header; "" is the server's address

	status int
	code   string // the JSON error code; "" for a success
	field  string
	// message, when set, must be part of the error's message.
	message string
	allow   string // the Allow header of a 405
}

func multipartBody(fields map[string]string) (contentType, body string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

// multipartPairs is a multipart body of the fields name, value, name,
// value… in order, repeats included.
func multipartPairs(pairs ...string) (contentType, body string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(pairs); i += 2 {
		w.WriteField(pairs[i], pairs[i+1])
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

// multipartFile is a sign-in whose field name is sent as a file part.
func multipartFile(name, content string) (contentType, body string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	w.WriteField("username", "susan")
	w.WriteField("password", "secret")
	f, _ := w.CreateFormFile(name, "grants.json")
	io.WriteString(f, content)
	w.Close()
	return w.FormDataContentType(), b.String()
}

func hostileHTTP() []httpAttack {
	const creds = `"username":"susan","password":"secret"`
	const js = "application/json"
	const form = "application/x-www-form-urlencoded"
	sid := func(prefix string) string { return prefix + strings.Repeat("a", 32) }
	bigMultipartType, bigMultipart := multipartBody(map[string]string{"username": "susan", "password": strings.Repeat("p", api.MaxBodyBytes)})
	mpType, mp := multipartBody(map[string]string{"username": "susan", "password": "secret", "ttl": "-1"})
	mpPlusType, mpPlus := multipartBody(map[string]string{"username": "susan", "password": "secret", "ttl": "+600"})
	mpExtraType, mpExtra := multipartBody(map[string]string{"username": "susan", "password": "secret", "role": "admin"})
	mpFileType, mpFile := multipartFile("grants", `{"video":{}}`)
	mpTwiceType, mpTwice := multipartPairs("username", "susan", "password", "secret", "password", "x")
	deep := strings.Repeat("[", 60_000) // deeper than encoding/json's limit, within 64 KiB
	deepClosed := `{` + creds + `,"grants":{"video":{"room":` + strings.Repeat("[", 5_000) + strings.Repeat("]", 5_000) + `}}}`
	tooDeepClosed := `{"username":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`
	return []httpAttack{
		// Malformed and truncated JSON.
		{name: "truncated JSON", method: "POST", path: "/token", contentType: js, body: `{"username":"susan","pass`, status: 400, code: api.CodeBadJSON},
		{name: "trailing comma", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,}`, status: 400, code: api.CodeBadJSON},
		{name: "not JSON at all", method: "POST", path: "/token", contentType: js, body: `username=susan`, status: 400, code: api.CodeBadJSON},
		{name: "JSON array", method: "POST", path: "/token", contentType: js, body: `[{` + creds + `}]`, status: 400, code: api.CodeBadJSON},
		{name: "JSON string", method: "POST", path: "/token", contentType: js, body: `"susan:secret"`, status: 400, code: api.CodeBadJSON},
		{name: "JSON null", method: "POST", path: "/token", contentType: js, body: `null`, status: 400, code: api.CodeBadJSON},
		{name: "two objects", method: "POST", path: "/token", contentType: js, body: `{` + creds + `}{}`, status: 400, code: api.CodeBadJSON},
		{name: "a stray closing brace", method: "POST", path: "/token", contentType: js, body: `{` + creds + `}}`, status: 400, code: api.CodeBadJSON},
		{name: "a stray closing bracket", method: "POST", path: "/token", contentType: js, body: `{` + creds + `}]`, status: 400, code: api.CodeBadJSON},
		{name: "NUL bytes", method: "POST", path: "/token", contentType: js, body: "\x00\x00{}", status: 400, code: api.CodeBadJSON},
		{name: "nesting deeper than the decoder's limit", method: "POST", path: "/token", contentType: js, body: `{"username":` + deep, status: 400, code: api.CodeBadJSON},
		{name: "closed nesting deeper than the limit", method: "POST", path: "/token", contentType: js, body: tooDeepClosed, status: 400, code: api.CodeBadJSON},
		{name: "deep nesting inside a grant", method: "POST", path: "/token", contentType: js, body: deepClosed, status: 400, code: api.CodeInvalidField, field: "grants", message: "nested deeper than 512 levels"},

		// Content types.
		{name: "text/plain", method: "POST", path: "/token", contentType: "text/plain", body: `{` + creds + `}`, status: 415, code: api.CodeUnsupportedMedia},
		{name: "XML", method: "POST", path: "/token", contentType: "application/xml", body: `<a/>`, status: 415, code: api.CodeUnsupportedMedia},
		{name: "unparsable Content-Type", method: "POST", path: "/token", contentType: ";;;=", body: `{` + creds + `}`, status: 415, code: api.CodeUnsupportedMedia},
		{name: "JSON without a Content-Type", method: "POST", path: "/token", body: `{` + creds + `}`, status: 200},
		{name: "form says JSON", method: "POST", path: "/token", contentType: js, body: `username=susan&password=secret`, status: 400, code: api.CodeBadJSON},
		{name: "multipart with a bad ttl", method: "POST", path: "/token", contentType: mpType, body: mp, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "verify as text/plain", method: "POST", path: "/token/verify", contentType: "text/plain", body: `{"token":"a.b.c"}`, status: 415, code: api.CodeUnsupportedMedia},

		// Sizes.
		{name: "JSON over 64 KiB", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"x":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`, status: 413, code: api.CodeBodyTooLarge},
		{name: "form over 64 KiB", method: "POST", path: "/token", contentType: form, body: "username=susan&password=" + strings.Repeat("a", api.MaxBodyBytes), status: 413, code: api.CodeBodyTooLarge},
		{name: "multipart over 64 KiB", method: "POST", path: "/token", contentType: bigMultipartType, body: bigMultipart, status: 413, code: api.CodeBodyTooLarge},
		{name: "verify over 64 KiB", method: "POST", path: "/token/verify", contentType: js, body: `{"token":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`, status: 413, code: api.CodeBodyTooLarge},

		// Fields.
		{name: "unknown field", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"admin":true}`, status: 400, code: api.CodeUnknownField, field: "admin"},
		{name: "key in capitals", method: "POST", path: "/token", contentType: js, body: `{"USERNAME":"root","password":"toor"}`, status: 400, code: api.CodeUnknownField, field: "USERNAME"},
		{name: "folded key shadows the exact one", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"userName":"root"}`, status: 400, code: api.CodeUnknownField, field: "userName"},
		{name: "ttl a word", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":"abc"}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl 0", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":0}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl negative", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":-60}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl 86401", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":86401}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl a float", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":600.5}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl in exponent form", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":6e2}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl huge", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":99999999999999999999999999}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl the largest int64", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":9223372036854775807}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "ttl a boolean", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":true}`, status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "form ttl a word", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&ttl=abc", status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "form ttl huge", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&ttl=99999999999999999999", status: 400, code: api.CodeInvalidField, field: "ttl"},
		{name: "form ttl with a plus sign", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&ttl=%2B600", status: 400, code: api.CodeInvalidField, field: "ttl", message: `got "+600"`},
		{name: "form ttl with a leading zero", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&ttl=0600", status: 400, code: api.CodeInvalidField, field: "ttl", message: `got "0600"`},
		{name: "multipart ttl with a plus sign", method: "POST", path: "/token", contentType: mpPlusType, body: mpPlus, status: 400, code: api.CodeInvalidField, field: "ttl", message: `got "+600"`},
		{name: "form with an unknown field", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&admin=true", status: 400, code: api.CodeUnknownField, field: "admin"},
		{name: "form key in capitals", method: "POST", path: "/token", contentType: form, body: "USERNAME=root&password=toor", status: 400, code: api.CodeUnknownField, field: "USERNAME", message: `write "username"`},
		{name: "multipart with an unknown field", method: "POST", path: "/token", contentType: mpExtraType, body: mpExtra, status: 400, code: api.CodeUnknownField, field: "role"},
		{name: "multipart with a file", method: "POST", path: "/token", contentType: mpFileType, body: mpFile, status: 400, code: api.CodeInvalidField, field: "grants", message: "sent as a file"},

		// Fields given twice: neither value wins silently.
		{name: "JSON key twice", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"username":"root"}`, status: 400, code: api.CodeDuplicateField, field: "username", message: "more than once"},
		{name: "JSON key twice, once escaped", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"\u0075sername":"root"}`, status: 400, code: api.CodeDuplicateField, field: "username"},
		{name: "JSON ttl twice", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"ttl":60,"ttl":86400}`, status: 400, code: api.CodeDuplicateField, field: "ttl"},
		{name: "JSON grant twice", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"video":{"room":"a"},"video":{"room":"b"}}}`, status: 400, code: api.CodeDuplicateField, field: "grants.video"},
		{name: "JSON grant field twice", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"video":{"room":"a","room":"b"}}}`, status: 400, code: api.CodeDuplicateField, field: "grants.video.room"},
		{name: "JSON key twice inside an array", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"player":{"x":[1,{"y":1,"y":2}]}}}`, status: 400, code: api.CodeDuplicateField, field: "grants.player.x[1].y"},
		{name: "verify token twice", method: "POST", path: "/token/verify", contentType: js, body: `{"token":"a.b.c","token":"d.e.f"}`, status: 400, code: api.CodeDuplicateField, field: "token"},
		{name: "form username twice", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&username=root", status: 400, code: api.CodeDuplicateField, field: "username"},
		{name: "form ttl twice", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&ttl=60&ttl=600", status: 400, code: api.CodeDuplicateField, field: "ttl"},
		{name: "multipart password twice", method: "POST", path: "/token", contentType: mpTwiceType, body: mpTwice, status: 400, code: api.CodeDuplicateField, field: "password"},
		{name: "form grants with a key twice", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&grants=" + url.QueryEscape(`{"video":{"room":"a","room":"b"}}`), status: 400, code: api.CodeDuplicateField, field: "grants.video.room"},

		// Identities and credentials.
		{name: "empty username", method: "POST", path: "/token", contentType: js, body: `{"username":"","password":"secret"}`, status: 401, code: api.CodeMissingCredentials},
		{name: "no password", method: "POST", path: "/token", contentType: js, body: `{"username":"susan"}`, status: 401, code: api.CodeMissingCredentials},
		{name: "overlong username", method: "POST", path: "/token", contentType: js, body: `{"username":"` + strings.Repeat("u", 257) + `","password":"x"}`, status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "NUL in the username", method: "POST", path: "/token", contentType: js, body: `{"username":"su\u0000san","password":"secret"}`, status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "newline in the username (log forging)", method: "POST", path: "/token", contentType: js, body: `{"username":"susan\nlevel=ERROR msg=forged","password":"x"}`, status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "escape sequence in the username", method: "POST", path: "/token", contentType: js, body: `{"username":"\u001b[31mred","password":"x"}`, status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "invalid UTF-8 username in a form", method: "POST", path: "/token", contentType: form, body: "username=%FF%FE&password=x", status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "username a number", method: "POST", path: "/token", contentType: js, body: `{"username":7,"password":"x"}`, status: 400, code: api.CodeInvalidField, field: "username"},
		{name: "wrong password", method: "POST", path: "/token", contentType: js, body: `{"username":"root","password":"Toor"}`, status: 401, code: api.CodeBadCredentials},
		{name: "unknown user", method: "POST", path: "/token", contentType: js, body: `{"username":"mallory","password":"secret"}`, status: 401, code: api.CodeBadCredentials},
		{name: "huge password", method: "POST", path: "/token", contentType: js, body: `{"username":"root","password":"` + strings.Repeat("p", 60_000) + `"}`, status: 401, code: api.CodeBadCredentials},
		{name: "Basic auth, wrong password", method: "POST", path: "/token", basic: [2]string{"susan", "nope"}, status: 401, code: api.CodeBadCredentials},
		{name: "Basic auth header not base64", method: "POST", path: "/token", header: map[string]string{"Authorization": "Basic !!!"}, status: 401, code: api.CodeMissingCredentials},
		{name: "credentials in the query string are ignored", method: "POST", path: "/token?username=susan&password=secret", contentType: form, body: "", status: 401, code: api.CodeMissingCredentials},
		{name: "first failure of a limited user", method: "POST", path: "/token", contentType: js, body: `{"username":"limited","password":"x"}`, status: 401, code: api.CodeBadCredentials},
		{name: "second failure of a limited user", method: "POST", path: "/token", contentType: js, body: `{"username":"limited","password":"x"}`, status: 401, code: api.CodeBadCredentials},
		{name: "third attempt of a limited user", method: "POST", path: "/token", contentType: js, body: `{"username":"limited","password":"x"}`, status: 429, code: api.CodeRateLimited},

		// Grants.
		{name: "SID too short", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"chat":{"service_sid":"IS123"}}}`, status: 400, code: api.CodeInvalidField, field: "grants.chat.service_sid"},
		{name: "SID with the wrong prefix", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"chat":{"service_sid":"` + sid("AC") + `"}}}`, status: 400, code: api.CodeInvalidField, field: "grants.chat.service_sid"},
		{name: "SID not hex", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"chat":{"service_sid":"IS` + strings.Repeat("z", 32) + `"}}}`, status: 400, code: api.CodeInvalidField, field: "grants.chat.service_sid"},
		{name: "unknown grant key", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"fax":{}}}`, status: 400, code: api.CodeInvalidField, field: "grants.fax"},
		{name: "grant key in capitals", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"VIDEO":{}}}`, status: 400, code: api.CodeInvalidField, field: "grants.VIDEO"},
		{name: "grants a string", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":"video"}`, status: 400, code: api.CodeInvalidField, field: "grants"},
		{name: "grants for someone else", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"identity":"root","video":{}}}`, status: 400, code: api.CodeInvalidField, field: "grants.identity"},
		{name: "grant outside the policy", method: "POST", path: "/token", contentType: js, body: `{` + creds + `,"grants":{"voice":{"outgoing":{"application_sid":"` + sid("AP") + `"}}}}`, status: 403, code: api.CodeGrantNotAllowed, field: "grants.voice"},
		{name: "form grants not JSON", method: "POST", path: "/token", contentType: form, body: "username=susan&password=secret&grants=video", status: 400, code: api.CodeInvalidField, field: "grants"},

		// Verify.
		{name: "verify without a token", method: "POST", path: "/token/verify", contentType: js, body: `{}`, status: 400, code: api.CodeInvalidField, field: "token"},
		{name: "verify a number", method: "POST", path: "/token/verify", contentType: js, body: `{"token":5}`, status: 400, code: api.CodeInvalidField, field: "token"},
		{name: "verify garbage", method: "POST", path: "/token/verify", contentType: js, body: `{"token":"` + strings.Repeat("x.", 1000) + `"}`, status: 200},
		{name: "verify alg none", method: "POST", path: "/token/verify", contentType: js, body: `{"token":"eyJhbGciOiJub25lIn0.e30."}`, status: 200},

		// Methods and paths.
		{name: "GET /token", method: "GET", path: "/token", status: 405, code: api.CodeMethodNotAllowed, allow: "POST"},
		{name: "OPTIONS /token (no preflight is granted)", method: "OPTIONS", path: "/token", status: 405, code: api.CodeMethodNotAllowed, allow: "POST"},
		{name: "PUT /token/refresh", method: "PUT", path: "/token/refresh", status: 405, code: api.CodeMethodNotAllowed, allow: "POST"},
		{name: "GET /logout", method: "GET", path: "/logout", cookie: "valid", status: 405, code: api.CodeMethodNotAllowed, allow: "POST"},
		{name: "DELETE /healthz", method: "DELETE", path: "/healthz", status: 405, code: api.CodeMethodNotAllowed, allow: "GET, HEAD"},
		{name: "POST /ws", method: "POST", path: "/ws", status: 405, code: api.CodeMethodNotAllowed, allow: "GET, HEAD"},
		{name: "POST /embed.js", method: "POST", path: "/embed.js", cookie: "valid", status: 405, code: api.CodeMethodNotAllowed, allow: "GET, HEAD"},
		{name: "the embed's parts are not served alone", method: "GET", path: "/embed.html", status: 404, code: "not_found"},
		{name: "embed.js with a stale version", method: "GET", path: "/embed.js?v=0000000000000000", status: 200},
		{name: "rebinding: the embed", method: "GET", path: "/embed.js", host: "evil.example", status: 421, code: api.CodeHostNotAllowed},
		{name: "PATCH /admin/sessions", method: "PATCH", path: "/admin/sessions", status: 405, code: api.CodeMethodNotAllowed, allow: "GET, HEAD"},
		{name: "unknown path", method: "GET", path: "/.env", status: 404, code: api.CodeNotFound},
		{name: "path traversal", method: "GET", path: "/gen/..%2f..%2fserver%2fmain.go", status: 404, code: api.CodeNotFound},
		{name: "operator revoke of a malformed id", method: "POST", path: "/admin/sessions/..%2f..%2fx/revoke", status: 400, code: api.CodeInvalidField, field: "id"},

		// Sessions.
		{name: "refresh without a cookie", method: "POST", path: "/token/refresh", status: 401, code: api.CodeNoSession},
		{name: "refresh with an empty cookie", method: "POST", path: "/token/refresh", cookie: "empty", status: 401, code: api.CodeNoSession},
		{name: "refresh with a tampered cookie", method: "POST", path: "/token/refresh", cookie: "tampered", status: 401, code: api.CodeSessionInvalid},
		{name: "refresh with a truncated cookie", method: "POST", path: "/token/refresh", cookie: "truncated", status: 401, code: api.CodeSessionInvalid},
		{name: "refresh with a cookie sealed by another key", method: "POST", path: "/token/refresh", cookie: "foreign", status: 401, code: api.CodeSessionInvalid},
		{name: "refresh with a cookie that is not base64url", method: "POST", path: "/token/refresh", cookie: "garbage", status: 401, code: api.CodeSessionInvalid},
		{name: "refresh with an overlong cookie", method: "POST", path: "/token/refresh", cookie: "overlong", status: 401, code: api.CodeSessionInvalid},
		{name: "renew a revoked session", method: "POST", path: "/token/refresh", cookie: "revoked", status: 401, code: api.CodeSessionRevoked},
		{name: "log out a revoked session", method: "POST", path: "/logout", cookie: "revoked", status: 401, code: api.CodeSessionRevoked},
		{name: "refresh with a form body", method: "POST", path: "/token/refresh", cookie: "valid", contentType: form, body: "a=b", status: 415, code: api.CodeUnsupportedMedia},
		{name: "refresh, cross-site", method: "POST", path: "/token/refresh", cookie: "valid", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403, code: api.CodeCrossOrigin},
		{name: "logout from another origin", method: "POST", path: "/logout", cookie: "valid", header: map[string]string{"Origin": "https://evil.example"}, status: 403, code: api.CodeCrossOrigin},
		{name: "refresh, valid", method: "POST", path: "/token/refresh", cookie: "valid", status: 200},

		// DNS rebinding: a page whose name now resolves to the server.
		{name: "rebinding: the page", method: "GET", path: "/", host: "evil.example", status: 421, code: api.CodeHostNotAllowed, message: "TOKENLAB_ALLOWED_HOSTS"},
		{name: "rebinding: an asset", method: "GET", path: "/app.js", host: "evil.example:8080", status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: health", method: "GET", path: "/healthz", host: "evil.example", status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: an unknown path", method: "GET", path: "/.env", host: "evil.example", status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: a sign-in", method: "POST", path: "/token", contentType: js, body: `{` + creds + `}`, host: "evil.example", header: map[string]string{"Origin": "http://evil.example"}, status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: a renewal with the victim's cookie", method: "POST", path: "/token/refresh", cookie: "valid", host: "evil.example", header: map[string]string{"Origin": "http://evil.example"}, status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: the operator list", method: "GET", path: "/admin/sessions", host: "evil.example", status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: a look-alike of localhost", method: "GET", path: "/healthz", host: "localhost.evil.example", status: 421, code: api.CodeHostNotAllowed},
		{name: "rebinding: a name in capitals", method: "GET", path: "/healthz", host: "EVIL.EXAMPLE", status: 421, code: api.CodeHostNotAllowed},
		{name: "localhost on another port", method: "GET", path: "/healthz", host: "localhost:1", status: 200},
		{name: "an IP address that is not the server's", method: "GET", path: "/healthz", host: "192.0.2.7", status: 200},

		// A same-host proxy: loopback, but not local.
		{name: "operator list through a proxy", method: "GET", path: "/admin/sessions", header: map[string]string{"X-Forwarded-For": "192.0.2.7"}, status: 403, code: api.CodeAdminForbidden, message: "TOKENLAB_ADMIN_TOKEN"},
		{name: "operator list via a Forwarded header", method: "GET", path: "/admin/sessions", header: map[string]string{"Forwarded": "for=192.0.2.7"}, status: 403, code: api.CodeAdminForbidden, message: "TOKENLAB_ADMIN_TOKEN"},
		{name: "operator list via X-Real-IP", method: "GET", path: "/admin/sessions", header: map[string]string{"X-Real-IP": "192.0.2.7"}, status: 403, code: api.CodeAdminForbidden},
		{name: "operator list via Via", method: "GET", path: "/admin/sessions", header: map[string]string{"Via": "1.1 nginx"}, status: 403, code: api.CodeAdminForbidden},

		// The lab is off with a users file (TOKENLAB_LAB unset).
		{name: "lab off: operator expire", method: "POST", path: "/admin/sessions/{valid}/expire", status: 403, code: api.CodeLabOff, message: "TOKENLAB_LAB"},
		{name: "lab off: own fail", method: "POST", path: "/lab/fail", cookie: "valid", contentType: js, body: `{"count":2,"status":503}`, status: 403, code: api.CodeLabOff, message: "TOKENLAB_LAB"},
		{name: "lab off: refresh still valid", method: "POST", path: "/token/refresh", cookie: "valid", status: 200},
	}
}

// TestHostileHTTP sends each attack to a real server and checks the exact
// status and error code, then that the server still serves.
func TestHostileHTTP(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { hostileHTTPOver(t, tr.tls) })
	}
}

func hostileHTTPOver(t *testing.T, overTLS bool) {
	s := newHostileOver(t, overTLS)
	attacks := hostileHTTP()
	runHTTPAttacks(t, s, attacks)
	if len(attacks) < 50 {
		t.Errorf("only %d HTTP attacks", len(attacks))
	}
}

// runHTTPAttacks sends each attack to s; "{valid}" in a path stands for
// the id of the "valid" cookie's session.
func runHTTPAttacks(t *testing.T, s *hostile, attacks []httpAttack) {
	jar := s.cookies(t)
	valid, err := s.sessions.Open(jar["valid"])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			var body io.Reader
			if a.body != "" {
				body = strings.NewReader(a.body)
			}
			req, err := http.NewRequest(a.method, s.srv.URL+strings.ReplaceAll(a.path, "{valid}", valid.ID), body)
			if err != nil {
				t.Fatal(err)
			}
			if a.contentType != "" {
				req.Header.Set("Content-Type", a.contentType)
			}
			for k, v := range a.header {
				req.Header.Set(k, v)
			}
			if a.cookie != "" {
				req.Header.Set("Cookie", session.CookieName+"="+jar[a.cookie])
			}
			if a.basic[0] != "" {
				req.SetBasicAuth(a.basic[0], a.basic[1])
			}
			if a.host != "" {
				req.Host = a.host
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(raw), secret) {
				t.Fatalf("the answer reveals the secret: %s", raw)
			}
			if resp.StatusCode != a.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, a.status, raw)
			}
			if a.code != "" || resp.StatusCode >= 400 {
				var e errorBody
				if err := json.Unmarshal(raw, &e); err != nil {
					t.Fatalf("error answer is not JSON: %.300s", raw)
				}
				if e.Error.Code != a.code || e.Error.Field != a.field || e.Error.Message == "" || !strings.Contains(e.Error.Message, a.message) {
					t.Errorf("error %+v, want code %q field %q message with %q", e.Error, a.code, a.field, a.message)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("error Content-Type %q", ct)
				}
			}
			if got := resp.Header.Get("Allow"); got != a.allow {
				t.Errorf("Allow %q, want %q", got, a.allow)
			}
			if a.status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			s.healthy(t)
		})
	}
}

// frameStep is one step of a WebSocket attack: send a frame, or expect a
// message or a close.
type frameStep struct {
	send      string // a text frame
	sendBin   []byte // a binary frame
	control   int    // a control frame of this type (websocket.PingMessage…)
	repeat    int    // send the frame this many times
	wantType  string // a message of this type…
	wantCode  string // …with this error code
	wantClose int    // or a close frame with this code
	reason    string // whose reason contains this
	skipPongs bool   // ignore pongs before the expected message
}

type wsAttack struct {
	name   string
	origin string // "" is the server's own
	host   string // the Host header; "" is the server's address
	cookie string // a key of cookies; "none" sends none
	// A refused upgrade: the HTTP status and error code.
	status int
	code   string
	steps  []frameStep
}

func hostileWS() []wsAttack {
	bad := func(frame, reason string) []frameStep {
		return []frameStep{
			{send: frame, wantType: protocol.TypeError, wantCode: protocol.ErrCodeBadMessage, reason: reason},
			// The connection survives a bad message.
			{send: `{"type":"ping","id":"after"}`, wantType: protocol.TypePong},
		}
	}
	return []wsAttack{
		{name: "from another origin", origin: "https://evil.example", cookie: "valid", status: 403, code: api.CodeCrossOrigin},
		{name: "from a rebinding domain (its own Host and Origin)", origin: "http://evil.example", host: "evil.example", cookie: "valid", status: 421, code: api.CodeHostNotAllowed},
		{name: "from a look-alike origin", origin: "http://127.0.0.1.evil.example", cookie: "valid", status: 403, code: api.CodeCrossOrigin},
		{name: "with Origin null", origin: "null", cookie: "valid", status: 403, code: api.CodeCrossOrigin},
		{name: "without a cookie", cookie: "none", status: 401, code: api.CodeNoSession},
		{name: "with a tampered cookie", cookie: "tampered", status: 401, code: api.CodeSessionInvalid},
		{name: "with a foreign cookie", cookie: "foreign", status: 401, code: api.CodeSessionInvalid},
		{name: "with a revoked cookie", cookie: "revoked", status: 401, code: api.CodeSessionRevoked},
		{name: "not JSON", cookie: "valid", steps: bad(`hello?`, "not valid JSON")},
		{name: "empty frame", cookie: "valid", steps: bad(``, "the frame is empty")},
		{name: "unknown type", cookie: "valid", steps: bad(`{"type":"subscribe"}`, `unknown type "subscribe"`)},
		{name: "type in capitals", cookie: "valid", steps: bad(`{"TYPE":"ping"}`, `"TYPE" is not a known field: keys are case-sensitive snake_case, write "type"`)},
		{name: "folded key shadows type", cookie: "valid", steps: bad(`{"type":"ping","Type":"renew"}`, `"Type" is not a known field`)},
		{name: "unknown field", cookie: "valid", steps: bad(`{"type":"renew","force":true}`, `"force" is not a known field`)},
		{name: "type twice", cookie: "valid", steps: bad(`{"type":"ping","type":"renew"}`, `"type" is given more than once`)},
		{name: "id twice, once escaped", cookie: "valid", steps: bad(`{"type":"renew","id":"a","\u0069d":"b"}`, `"id" is given more than once`)},
		{name: "a server message", cookie: "valid", steps: bad(`{"type":"token","token":"a.b.c"}`, "sent by the server")},
		{name: "id of the wrong type", cookie: "valid", steps: bad(`{"type":"ping","id":{"$gt":""}}`, `"id" must be a string, not an object`)},
		{name: "two messages in one frame", cookie: "valid", steps: bad(`{"type":"ping"}{"type":"renew"}`, "not valid JSON (invalid character '{' after top-level value)")},
		{name: "invalid UTF-8", cookie: "valid", steps: bad("{\"type\":\"ping\",\"id\":\"\xff\xfe\"}", "not valid UTF-8")},
		{name: "binary frame", cookie: "valid", steps: []frameStep{
			{sendBin: []byte(`{"type":"ping"}`), wantClose: websocket.CloseUnsupportedData, reason: "binary frames are not accepted"}}},
		{name: "oversized frame", cookie: "valid", steps: []frameStep{
			{send: `{"type":"ping","id":"` + strings.Repeat("x", 600) + `"}`, wantClose: websocket.CloseMessageTooBig}}},
		{name: "a megabyte frame", cookie: "valid", steps: []frameStep{
			{send: strings.Repeat(" ", 1<<20), wantClose: websocket.CloseMessageTooBig}}},
		{name: "faster than 5 a second", cookie: "valid", steps: []frameStep{
			{send: `{"type":"ping"}`, repeat: 40, skipPongs: true, wantType: protocol.TypeError, wantCode: protocol.ErrCodeRateLimited},
			{wantClose: protocol.CloseRateLimited, reason: "more than 5 messages a second"}}},
		{name: "pings faster than 5 a second", cookie: "valid", steps: []frameStep{
			{control: websocket.PingMessage, repeat: 200, wantType: protocol.TypeError, wantCode: protocol.ErrCodeRateLimited},
			{wantClose: protocol.CloseRateLimited, reason: "more than 5 messages a second"}}},
		{name: "pongs faster than 5 a second", cookie: "valid", steps: []frameStep{
			{control: websocket.PongMessage, repeat: 200, wantType: protocol.TypeError, wantCode: protocol.ErrCodeRateLimited},
			{wantClose: protocol.CloseRateLimited, reason: "more than 5 messages a second"}}},
		{name: "pings and messages share the limit", cookie: "valid", steps: []frameStep{
			{control: websocket.PingMessage, repeat: 10},
			{send: `{"type":"ping"}`, wantType: protocol.TypeError, wantCode: protocol.ErrCodeRateLimited},
			{wantClose: protocol.CloseRateLimited, reason: "more than 5 messages a second"}}},
		{name: "renew, valid", cookie: "valid", steps: []frameStep{
			{send: `{"type":"renew","id":"r1"}`, wantType: protocol.TypeToken}}},
	}
}

// TestHostileWebSocket runs each attack on a fresh connection of a real
// server, checking the exact refusal, error message or close code, then
// that the server still serves.
func TestHostileWebSocket(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { hostileWebSocketOver(t, tr.tls) })
	}
}

func hostileWebSocketOver(t *testing.T, overTLS bool) {
	s := newHostileOver(t, overTLS)
	jar := s.cookies(t)
	wsURL := s.wsURL("/ws")
	for _, a := range hostileWS() {
		t.Run(a.name, func(t *testing.T) {
			h := http.Header{}
			origin := a.origin
			if origin == "" {
				origin = s.srv.URL
			}
			h.Set("Origin", origin)
			if a.host != "" {
				h.Set("Host", a.host) // the dialer sends it as the request's Host
			}
			if a.cookie != "none" {
				h.Set("Cookie", session.CookieName+"="+jar[a.cookie])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, resp, err := s.dialer.DialContext(ctx, wsURL, h)
			if a.status != 0 {
				if err == nil {
					c.Close()
					t.Fatal("the upgrade was accepted")
				}
				if resp == nil || resp.StatusCode != a.status {
					t.Fatalf("dial: %v, want status %d", err, a.status)
				}
				var e errorBody
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != a.code {
					t.Errorf("refusal %+v (%v), want code %s", e.Error, err, a.code)
				}
				s.healthy(t)
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			expect(t, c, protocol.TypeHello, 5*time.Second)
			for _, st := range a.steps {
			send:
				for range max(st.repeat, 1) {
					switch {
					case st.control != 0:
						if c.WriteControl(st.control, []byte("x"), time.Now().Add(time.Second)) != nil {
							break send
						}
					case st.sendBin != nil:
						c.WriteMessage(websocket.BinaryMessage, st.sendBin)
					case st.wantType != "" || st.send != "":
						// Once the server has closed, further writes only fail.
						if c.WriteMessage(websocket.TextMessage, []byte(st.send)) != nil {
							break send
						}
					}
				}
				if st.wantClose != 0 {
					if reason := expectClose(t, c, st.wantClose); !strings.Contains(reason, st.reason) {
						t.Errorf("close reason %q, want it to say %q", reason, st.reason)
					}
					continue
				}
				if st.wantType == "" {
					continue // a step that only sends
				}
				m := read(t, c, 5*time.Second)
				for st.skipPongs && m.Type == protocol.TypePong {
					m = read(t, c, 5*time.Second)
				}
				if m.Type != st.wantType || m.Code != st.wantCode || !strings.Contains(m.Text, st.reason) {
					t.Errorf("got %+v, want a %q message with code %q saying %q", m, st.wantType, st.wantCode, st.reason)
				}
			}
			s.healthy(t)
		})
	}
}

// TestHostileRenewAfterRevoke: a tab whose session is logged out elsewhere
// is told and closed, and neither a renew it sends nor a later HTTP
// refresh with the same cookie mints anything.
func TestHostileRenewAfterRevoke(t *testing.T) {
	s := newHostile(t)
	value := s.signIn(t)
	h := http.Header{"Origin": {s.srv.URL}, "Cookie": {session.CookieName + "=" + value}}
	c, _, err := s.dialer.Dial(s.wsURL("/ws"), h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(t, c, protocol.TypeHello, 5*time.Second)

	req, _ := http.NewRequest("POST", s.srv.URL+"/logout", nil)
	req.Header.Set("Cookie", session.CookieName+"="+value)
	resp, err := s.client.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %v", err)
	}
	resp.Body.Close()
	// The renew races with the revocation: it may be answered with
	// session_gone before the close, but never with a token.
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"renew","id":"late"}`))
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != protocol.CloseRevoked {
				t.Fatalf("the socket ended with %v, want close %d", err, protocol.CloseRevoked)
			}
			break
		}
		m, _ := protocol.Decode(data)
		if m.Type == protocol.TypeToken {
			t.Fatalf("a revoked session was given a token: %s", data)
		}
		if m.Type == protocol.TypeError && m.Code != protocol.ErrCodeSessionGone {
			t.Errorf("renew after revoke: %+v, want session_gone", m)
		}
	}
	req, _ = http.NewRequest("POST", s.srv.URL+"/token/refresh", nil)
	req.Header.Set("Cookie", session.CookieName+"="+value)
	resp, err = s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e errorBody
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || e.Error.Code != api.CodeSessionRevoked {
		t.Errorf("refresh after revoke: %d %+v", resp.StatusCode, e.Error)
	}
	s.healthy(t)
}

// floodPings sends n ping frames on c once start is closed, until the
// server stops taking them, and reads to the end: it returns how many
// pongs came back and the error the reading ended with (messages the
// server sends on the way, such as its rate-limit error, are skipped).
func floodPings(c *websocket.Conn, n int, start <-chan struct{}) (pongs int32, err error) {
	var answered atomic.Int32
	// The pong handler runs inside ReadMessage.
	c.SetPongHandler(func(string) error { answered.Add(1); return nil })
	<-start
	go func() {
		for range n {
			if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err = c.ReadMessage(); err != nil {
			return answered.Load(), err
		}
	}
}

// TestHostilePingFloodInParallel: several tabs of one session flood the
// server with ping frames at once; each is closed with 4029 after its
// burst, having been answered no more pongs than the burst allows, and
// the server keeps serving.
func TestHostilePingFloodInParallel(t *testing.T) {
	s := newHostile(t)
	value := s.signIn(t)
	h := http.Header{"Origin": {s.srv.URL}, "Cookie": {session.CookieName + "=" + value}}
	wsURL := s.wsURL("/ws")
	const tabs, pings = 4, 1000
	start := make(chan struct{})
	errs := make(chan error, tabs)
	for range tabs {
		c, _, err := s.dialer.Dial(wsURL, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expect(t, c, protocol.TypeHello, 5*time.Second)
		go func() {
			pongs, err := floodPings(c, pings, start)
			var ce *websocket.CloseError
			switch {
			case !errors.As(err, &ce) || ce.Code != protocol.CloseRateLimited:
				errs <- fmt.Errorf("the flood ended with %v, want close %d", err, protocol.CloseRateLimited)
			case pongs > api.MessageBurst+api.MessageRate:
				// The burst, and what the rate refills in the second
				// the flood takes at most.
				errs <- fmt.Errorf("%d pongs answered, more than the burst of %d", pongs, api.MessageBurst)
			default:
				errs <- nil
			}
		}()
	}
	close(start)
	for range tabs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s.healthy(t)
}
