package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

func (l *live) post(tb testing.TB, path string, ck *http.Cookie) (*http.Response, errorBody) {
	tb.Helper()
	req, _ := http.NewRequest("POST", l.srv.URL+path, nil)
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorBody
	json.NewDecoder(resp.Body).Decode(&e)
	return resp, e
}

// TestLogoutThatCannotBeSavedStillEndsTheSessionEverywhere: when the
// revocation log can no longer be written, logout says so (500 with its
// own code), and the session is over for HTTP and for the sockets alike:
// its tabs are told and closed, refresh and a new socket are refused.
func TestLogoutThatCannotBeSavedStillEndsTheSessionEverywhere(t *testing.T) {
	l := newLive(t, func(c *config.Config) { c.StateDir = t.TempDir() }, nil)
	_, ck := l.signIn(t, 600)
	a, b := l.mustDial(t, ck), l.mustDial(t, ck)
	for _, c := range []*websocket.Conn{a, b} {
		expect(t, c, protocol.TypeHello, 5*time.Second)
	}
	// The log's file is gone from under the list: every write fails.
	l.sessions.Revocations().Close()

	resp, e := l.post(t, "/logout", ck)
	if resp.StatusCode != http.StatusInternalServerError || e.Error.Code != api.CodeNotSaved || !strings.Contains(e.Error.Message, config.EnvStateDir) {
		t.Errorf("logout with an unwritable log: %d %+v, want 500 %s naming %s", resp.StatusCode, e.Error, api.CodeNotSaved, config.EnvStateDir)
	}
	if c := sessionCookie(t, resp.Cookies()); c == nil || c.MaxAge >= 0 {
		t.Errorf("the cookie was not cleared: %+v", c)
	}
	for _, c := range []*websocket.Conn{a, b} {
		if m := expect(t, c, protocol.TypeRevoked, 5*time.Second); m.Reason != "logout" {
			t.Errorf("revoked %+v", m)
		}
		expectClose(t, c, protocol.CloseRevoked)
	}
	if _, err := l.refreshHTTP(t, ck); err == nil || !strings.Contains(err.Error(), api.CodeSessionRevoked) {
		t.Errorf("refresh after logout: %v, want %s", err, api.CodeSessionRevoked)
	}
	if _, resp, err := l.dial(ck, l.srv.URL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a socket after logout: %v", err)
	}
}

// TestRevocationListAtItsBound: a full list refuses new sessions with 503
// and still takes every logout, so no session is ever un-revoked to make
// room.
func TestRevocationListAtItsBound(t *testing.T) {
	l := newLive(t, nil, nil)
	l.sessions.Revocations().SetMax(2)
	var cookies []*http.Cookie
	for range 3 {
		_, ck := l.signIn(t, 600)
		cookies = append(cookies, ck)
	}
	for _, ck := range cookies[:2] {
		if resp, e := l.post(t, "/logout", ck); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %+v", resp.StatusCode, e.Error)
		}
	}
	resp, err := http.Post(l.srv.URL+"/token", "application/json", strings.NewReader(`{"username":"alice","password":"pw"}`))
	if err != nil {
		t.Fatal(err)
	}
	var e errorBody
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != api.CodeUnavailable || !strings.Contains(e.Error.Message, config.EnvSessionLifetime) {
		t.Errorf("sign-in with a full list: %d %+v, want 503 %s", resp.StatusCode, e.Error, api.CodeUnavailable)
	}
	// Past the bound, a logout still counts, and the earlier ones stand.
	if resp, e := l.post(t, "/logout", cookies[2]); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout past the bound: %d %+v", resp.StatusCode, e.Error)
	}
	for i, ck := range cookies {
		if _, err := l.refreshHTTP(t, ck); err == nil || !strings.Contains(err.Error(), api.CodeSessionRevoked) {
			t.Errorf("session %d after logout: %v, want %s", i, err, api.CodeSessionRevoked)
		}
	}
}
