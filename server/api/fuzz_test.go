package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// fuzzContentTypes are the Content-Type headers a fuzzed request picks
// from by index: every decoder POST /token has, and ones it refuses.
var fuzzContentTypes = []string{
	"application/json",
	"", // JSON sent without saying so, or Basic auth with no body
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=XYZ",
	"text/plain",
	"application/json; charset=utf-8",
	"multipart/form-data", // no boundary
	"application/x-www-form-urlencoded; charset=latin1",
}

// errorCodes are the codes each status may carry on these routes.
var errorCodes = map[int][]string{
	400: {api.CodeBadJSON, api.CodeInvalidField, api.CodeUnknownField, api.CodeDuplicateField},
	401: {api.CodeMissingCredentials, api.CodeBadCredentials},
	403: {api.CodeGrantNotAllowed},
	413: {api.CodeBodyTooLarge},
	415: {api.CodeUnsupportedMedia},
	429: {api.CodeRateLimited},
}

func fuzzHandler(tb testing.TB) (http.Handler, *mint.Minter) {
	tb.Helper()
	s := newStack(tb, fixture{now: at(t0), config: func(c *config.Config) {
		c.SignInLimitAddr, c.SignInLimitUser = config.DefaultSignInLimitAddr, config.DefaultSignInLimitUser
	}})
	return s.handler, s.minter
}

// checkAnswer holds for every answer of the API: JSON, never a 500, an
// error code that belongs to its status, no secret.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code == http.StatusInternalServerError {
		t.Fatalf("500: %s", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q (status %d)", ct, rec.Code)
	}
	if bytes.Contains(rec.Body.Bytes(), []byte(secret)) {
		t.Fatalf("the answer reveals the secret: %s", rec.Body)
	}
	if rec.Code == http.StatusOK {
		return
	}
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, rec.Body)
	}
	codes, ok := errorCodes[rec.Code]
	if !ok || !slices.Contains(codes, e.Error.Code) || e.Error.Message == "" {
		t.Fatalf("status %d with error %+v", rec.Code, e.Error)
	}
}

// FuzzTokenRequest sends arbitrary bodies under each Content-Type to POST
// /token (JSON, form and multipart decoding, the field checks, the grant
// parser): never a 500 or a panic, always a JSON answer with a documented
// code, and every token handed out is genuine, for a valid identity and
// ttl.
func FuzzTokenRequest(f *testing.F) {
	for _, s := range []struct {
		ct   uint8
		body string
	}{
		{0, `{"username":"susan","password":"secret"}`},
		{0, `{"username":"susan","password":"secret","ttl":600,"grants":{"video":{"room":"r"},"chat":{"service_sid":"IS0123456789abcdef0123456789abcdef"}}}`},
		{0, `{"username":"susan","password":"secret","grants":{"identity":"susan","voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP0123456789abcdef0123456789abcdef","params":{"a":1}}}}}`},
		{0, `{"username":"susan","password":"secret","grants":{"player":{"playbackGrant":{"x":[1,{"y":null}]}}}}`},
		{0, `{"USERNAME":"a","password":"b"}`},
		{0, `{"username":"a","password":"b"}}`},
		{0, `{"username":"a","password":"b","ttl":1e400}`},
		{0, `null`},
		{1, `{"username":"a","password":"b"}`},
		{1, ``},
		{2, `username=susan&password=secret&ttl=60&grants=%7B%22video%22%3A%7B%7D%7D`},
		{2, `username=%ff&password=x`},
		{2, `username=a&password=b&ttl=-0`},
		{2, `username=a&password=b&username=c&ttl=%2B60`},
		{0, `{"username":"a","password":"b","grants":{"video":{"room":"r","\u0072oom":"s"}}}`},
		{3, "--XYZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nsusan\r\n--XYZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecret\r\n--XYZ--\r\n"},
		{3, "--XYZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx\r\n--XYZ"},
		{4, `{"username":"a","password":"b"}`},
		{6, `x`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	h, m := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		r := httptest.NewRequest("POST", "/token", bytes.NewReader(body))
		if c := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]; c != "" {
			r.Header.Set("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		checkAnswer(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		var resp api.TokenResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("200 with %s: %v", rec.Body, err)
		}
		tok, err := m.Verify(resp.Token)
		if err != nil {
			t.Fatalf("the token handed out does not verify: %v", err)
		}
		if err := token.CheckIdentity("identity", resp.Identity); err != nil || tok.Claims.Identity() != resp.Identity {
			t.Fatalf("identity %q (%v), token says %q", resp.Identity, err, tok.Claims.Identity())
		}
		if err := token.CheckTTL("ttl", resp.TTL); err != nil {
			t.Fatalf("ttl %d: %v", resp.TTL, err)
		}
		if err := tok.Claims.Grants.Validate(); err != nil {
			t.Fatalf("grants of a minted token: %v", err)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || !strings.Contains(rec.Header().Get("Set-Cookie"), "HttpOnly") {
			t.Fatalf("headers of a sign-in: %v", rec.Header())
		}
	})
}

// FuzzVerifyRequest sends arbitrary bodies to POST /token/verify: never a
// 500, and "valid" only for a token this server signed.
func FuzzVerifyRequest(f *testing.F) {
	m := mustMinter(f)
	good, err := m.Mint("alice", token.Grants{Video: &token.VideoGrant{}}, 600*time.Second)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"token":"` + good.Token + `"}`,
		`{"token":"` + good.Token[:len(good.Token)-2] + `AA"}`,
		`{"token":"eyJhbGciOiJub25lIn0.e30."}`,
		`{"token":"a.b.c"}`,
		`{"token":""}`,
		`{"TOKEN":"a.b.c"}`,
		`{"token":5}`,
		`{}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	h, _ := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, jsonReq("POST", "/token/verify", string(body)))
		checkAnswer(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		var v api.VerifyResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.Reason == "" {
			t.Fatalf("200 with %s (%v)", rec.Body, err)
		}
		if !v.Valid {
			return
		}
		var req struct{ Token string }
		json.Unmarshal(body, &req)
		if _, err := m.Verify(req.Token); err != nil {
			t.Fatalf("valid for a token the minter refuses: %v", err)
		}
	})
}
