package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

func adminReq(method, path, remote, bearer string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return r
}

func TestAdminGuard(t *testing.T) {
	open := newStack(t, fixture{})
	const adminToken = "admin-token-0123456789"
	guarded := newStack(t, fixture{config: func(c *config.Config) { c.AdminToken = adminToken }})
	tests := []struct {
		name   string
		s      *stack
		remote string
		bearer string
		status int
		code   string
	}{
		{"no admin token, loopback v4", open, "127.0.0.1:4000", "", 200, ""},
		{"no admin token, loopback v6", open, "[::1]:4000", "", 200, ""},
		{"no admin token, remote", open, "192.0.2.7:4000", "", 403, api.CodeAdminForbidden},
		{"admin token, remote, right bearer", guarded, "192.0.2.7:4000", adminToken, 200, ""},
		{"admin token, loopback, no bearer", guarded, "127.0.0.1:4000", "", 401, api.CodeAdminUnauthorized},
		{"admin token, wrong bearer", guarded, "127.0.0.1:4000", adminToken + "x", 401, api.CodeAdminUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, tt.s.handler, adminReq("GET", "/admin/sessions", tt.remote, tt.bearer))
			if tt.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
				return
			}
			if e := decodeError(t, rec, tt.status); e.Error.Code != tt.code {
				t.Errorf("code %s, want %s", e.Error.Code, tt.code)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAdminListsAndRevokes(t *testing.T) {
	l := newLive(t, nil, nil)
	tr, ck := l.signIn(t, 600)
	ws := l.mustDial(t, ck)
	expect(t, ws, protocol.TypeHello, 5*time.Second)

	resp, err := http.Get(l.srv.URL + "/admin/sessions") // the test server is on loopback
	if err != nil {
		t.Fatal(err)
	}
	var list api.SessionsResponse
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(list.Sessions) != 1 || list.Connections != 1 || list.MaxConnsPerSession != 8 {
		t.Fatalf("GET /admin/sessions: %d %+v", resp.StatusCode, list)
	}
	got := list.Sessions[0]
	if got.Identity != "alice" || got.Connections != 1 || got.JTI != tr.JTI || got.TokenExp.Unix() != tr.ExpiresAt ||
		time.Until(got.SessionExp) < 59*time.Minute || len(got.ID) != 26 {
		t.Errorf("session %+v", got)
	}

	resp, err = http.Post(l.srv.URL+"/admin/sessions/"+got.ID+"/revoke", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rev api.RevokeResponse
	json.NewDecoder(resp.Body).Decode(&rev)
	resp.Body.Close()
	if resp.StatusCode != 200 || rev.Revoked != got.ID || !rev.Live {
		t.Fatalf("revoke: %d %+v", resp.StatusCode, rev)
	}
	if m := expect(t, ws, protocol.TypeRevoked, 5*time.Second); m.Reason != "operator" {
		t.Errorf("revoked %+v", m)
	}
	expectClose(t, ws, protocol.CloseRevoked)
	if _, err := l.refreshHTTP(t, ck); err == nil {
		t.Error("the revoked session still renews")
	}

	// A session this process never saw (before a restart) is revoked too.
	_, other := l.signIn(t, 600)
	fresh := newStack(t, fixture{}) // same key: a restarted server
	s, err := fresh.sessions.FromRequest(withCookie(httptest.NewRequest("GET", "/", nil), other))
	if err != nil {
		t.Fatal(err)
	}
	rec := do(t, fresh.handler, adminReq("POST", "/admin/sessions/"+s.ID+"/revoke", "127.0.0.1:1", ""))
	if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("revoke unknown: %d %s", rec.Code, rec.Body)
	}
	if rec := refresh(t, fresh.handler, other); rec.Code != http.StatusUnauthorized {
		t.Errorf("refresh after revoking a session the server had not seen: %d", rec.Code)
	}

	for _, id := range []string{"short", "lowercaseaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAAA1"} {
		rec := do(t, fresh.handler, adminReq("POST", "/admin/sessions/"+id+"/revoke", "127.0.0.1:1", ""))
		if e := decodeError(t, rec, http.StatusBadRequest); e.Error.Field != "id" {
			t.Errorf("id %q: %+v", id, e.Error)
		}
	}
}
