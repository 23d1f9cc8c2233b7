package api_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// filed is a real server on loopback whose users come from a live users
// file: alice (password "pw": video, chat) and bob ("bob": video).
type filed struct {
	path string
	live *users.Live
	hub  *hub.Hub
	srv  *httptest.Server
	logs *lockedBuffer
}

// newFiled starts it; with recheck, a reload re-checks the live sessions
// at once (as serve wires it), otherwise only renewals check.
func newFiled(tb testing.TB, path string, recheck bool) *filed {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "users.json")
		putUser(tb, path, "alice", "pw", "video", "chat")
		putUser(tb, path, "bob", "bob", "video")
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	l, err := users.Watch(path, log)
	if err != nil {
		tb.Fatal(err)
	}
	s := newStack(tb, fixture{auth: l, log: log})
	if recheck {
		l.OnChange(s.hub.Recheck)
	}
	return &filed{path: path, live: l, hub: s.hub, srv: s.listen(tb), logs: logs}
}

// putUser adds or updates a user as `tokenlab useradd` does.
func putUser(tb testing.TB, path, name, pw string, grants ...string) {
	tb.Helper()
	if _, err := users.Put(path, name, pw, grants, bcrypt.MinCost); err != nil {
		tb.Fatal(err)
	}
}

// editFile rewrites the users file as an editor does: a new file renamed
// over the old one.
func editFile(tb testing.TB, path string, edit func(us map[string]map[string]any)) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Users map[string]map[string]any `json:"users"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	edit(f.Users)
	out, _ := json.Marshal(f)
	tmp := path + ".swp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

func (f *filed) signIn(tb testing.TB, user, pw string) (int, *http.Cookie) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"username": user, "password": pw, "grants": map[string]any{"video": map[string]any{}}})
	resp, err := http.Post(f.srv.URL+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, sessionCookie(tb, resp.Cookies())
}

func (f *filed) mustSignIn(tb testing.TB, user, pw string) *http.Cookie {
	tb.Helper()
	status, ck := f.signIn(tb, user, pw)
	if status != http.StatusOK || ck == nil {
		tb.Fatalf("sign-in as %s: %d", user, status)
	}
	return ck
}

// refresh is POST /token/refresh with the cookie: its status and error code.
func (f *filed) refresh(tb testing.TB, ck *http.Cookie) (int, string) {
	req, _ := http.NewRequest("POST", f.srv.URL+"/token/refresh", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	var e errorBody
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Code
}

// tab opens a WebSocket with the cookie, as the page does, and reads its hello.
func (f *filed) tab(tb testing.TB, ck *http.Cookie) *websocket.Conn {
	tb.Helper()
	l := &live{srv: f.srv}
	c := l.mustDial(tb, ck)
	expect(tb, c, protocol.TypeHello, 5*time.Second)
	return c
}

// refreshAll renews with ck from n goroutines released together and
// returns each answer's status and code.
func (f *filed) refreshAll(tb testing.TB, ck *http.Cookie, n int) []string {
	tb.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   []string
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, code := f.refresh(tb, ck)
			mu.Lock()
			got = append(got, http.StatusText(status)+" "+code)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// TestSessionsFollowTheUsersFile: removing a user, changing its password
// or narrowing its grants in the file ends its live sessions: their tabs
// hear "revoked" (users_file) and close 4001, and renewals racing in
// parallel all get 401. Other users' sessions go on.
func TestSessionsFollowTheUsersFile(t *testing.T) {
	tests := []struct {
		name string
		edit func(tb testing.TB, path string)
	}{
		{"user removed", func(tb testing.TB, path string) {
			editFile(tb, path, func(us map[string]map[string]any) { delete(us, "alice") })
		}},
		{"password changed with useradd", func(tb testing.TB, path string) { putUser(tb, path, "alice", "new", "video", "chat") }},
		{"password set again to the same", func(tb testing.TB, path string) { putUser(tb, path, "alice", "pw", "video", "chat") }},
		{"grants narrowed", func(tb testing.TB, path string) {
			editFile(tb, path, func(us map[string]map[string]any) { us["alice"]["grants"] = []string{"chat"} })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFiled(t, "", true)
			alice := f.mustSignIn(t, "alice", "pw")
			bob := f.mustSignIn(t, "bob", "bob")
			tabs := []*websocket.Conn{f.tab(t, alice), f.tab(t, alice)}
			bobTab := f.tab(t, bob)
			if status, code := f.refresh(t, alice); status != http.StatusOK {
				t.Fatalf("refresh before the edit: %d %s", status, code)
			}

			tt.edit(t, f.path)
			if !f.live.Reload() {
				t.Fatalf("the edit was not loaded; log:\n%s", f.logs)
			}
			for _, c := range tabs {
				if m := expect(t, c, protocol.TypeRevoked, 5*time.Second); m.Reason != hub.ReasonUsersFile {
					t.Errorf("revoked for %q, want %q", m.Reason, hub.ReasonUsersFile)
				}
				expectClose(t, c, protocol.CloseRevoked)
			}
			for _, got := range f.refreshAll(t, alice, 16) {
				if got != "Unauthorized session_revoked" {
					t.Errorf("a renewal after the edit got %s, want Unauthorized session_revoked", got)
				}
			}
			// A new tab of the ended session is refused with 4001.
			expectClose(t, (&live{srv: f.srv}).mustDial(t, alice), protocol.CloseRevoked)
			// bob is untouched.
			if status, code := f.refresh(t, bob); status != http.StatusOK {
				t.Errorf("bob's refresh: %d %s", status, code)
			}
			send(t, bobTab, protocol.Message{Type: protocol.TypeRenew, ID: "b1"})
			expect(t, bobTab, protocol.TypeToken, 5*time.Second)
		})
	}
}

// TestSocketRenewalChecksTheUsersFile: without the re-check on reload, a
// tab's own renewal still finds the changed password and ends the session.
func TestSocketRenewalChecksTheUsersFile(t *testing.T) {
	f := newFiled(t, "", false)
	alice := f.mustSignIn(t, "alice", "pw")
	c := f.tab(t, alice)
	putUser(t, f.path, "alice", "changed", "video", "chat")
	if !f.live.Reload() {
		t.Fatal("the new password was not loaded")
	}
	send(t, c, protocol.Message{Type: protocol.TypeRenew, ID: "r1"})
	if m := expect(t, c, protocol.TypeRevoked, 5*time.Second); m.Reason != hub.ReasonUsersFile {
		t.Errorf("revoked for %q", m.Reason)
	}
	expectClose(t, c, protocol.CloseRevoked)
	if status, code := f.refresh(t, alice); status != http.StatusUnauthorized || code != api.CodeSessionRevoked {
		t.Errorf("HTTP refresh: %d %s", status, code)
	}
	if status, _ := f.signIn(t, "alice", "pw"); status != http.StatusUnauthorized {
		t.Errorf("the old password signs in: %d", status)
	}
	if status, _ := f.signIn(t, "alice", "changed"); status != http.StatusOK {
		t.Errorf("the new password does not sign in: %d", status)
	}
}

// TestBadUsersFileKeepsTheOldOne: a version that does not load (garbage,
// half written, a duplicate user, others may write it, gone) leaves the
// last good one in force, says why in one log line, and reveals no hash.
func TestBadUsersFileKeepsTheOldOne(t *testing.T) {
	f := newFiled(t, "", true)
	alice := f.mustSignIn(t, "alice", "pw")
	c := f.tab(t, alice)
	good, _ := os.ReadFile(f.path)
	hash := f.live.Current() // the users in force
	bad := []struct {
		name string
		do   func() error
		log  string
	}{
		{"garbage", func() error { return os.WriteFile(f.path, []byte("{not json"), 0o600) }, "bad JSON"},
		{"half written", func() error { return os.WriteFile(f.path, good[:len(good)/2], 0o600) }, "ends early"},
		{"empty", func() error { return os.WriteFile(f.path, nil, 0o600) }, "ends early"},
		{"duplicate user", func() error {
			dup := bytes.Replace(good, []byte(`"bob"`), []byte(`"alice"`), 1)
			return os.WriteFile(f.path, dup, 0o600)
		}, `listed twice`},
		{"writable by others", func() error {
			if err := os.WriteFile(f.path, bytes.ReplaceAll(good, []byte(`"chat"`), []byte(`"voice"`)), 0o600); err != nil {
				return err
			}
			return os.Chmod(f.path, 0o666)
		}, "chmod 600"},
		{"removed", func() error { return os.Remove(f.path) }, "no such file"},
	}
	for _, b := range bad {
		if err := b.do(); err != nil {
			t.Fatal(err)
		}
		if f.live.Reload() {
			t.Fatalf("%s: a bad version was loaded", b.name)
		}
		if f.live.Current() != hash {
			t.Fatalf("%s: the users in force changed", b.name)
		}
		if !strings.Contains(f.logs.String(), b.log) {
			t.Errorf("%s: the log does not say %q:\n%s", b.name, b.log, f.logs)
		}
		if status, code := f.refresh(t, alice); status != http.StatusOK {
			t.Fatalf("%s: the session ended: %d %s", b.name, status, code)
		}
		send(t, c, protocol.Message{Type: protocol.TypeRenew, ID: b.name})
		expect(t, c, protocol.TypeToken, 5*time.Second)
		if status, _ := f.signIn(t, "alice", "pw"); status != http.StatusOK {
			t.Errorf("%s: alice cannot sign in", b.name)
		}
	}
	logs := f.logs.String()
	if n := strings.Count(logs, "users file not reloaded"); n != len(bad) {
		t.Errorf("%d refusals logged, want one line each (%d):\n%s", n, len(bad), logs)
	}
	if strings.Contains(logs, "$2a$") {
		t.Errorf("the log reveals a hash:\n%s", logs)
	}
	// A good version again takes effect.
	if err := os.WriteFile(f.path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	putUser(t, f.path, "alice", "pw2", "video")
	if !f.live.Reload() {
		t.Fatalf("the fixed file was not loaded:\n%s", f.logs)
	}
	expect(t, c, protocol.TypeRevoked, 5*time.Second)
}

// TestSessionsFollowTheFileAcrossARestart: a cookie from before a restart
// is checked against the file the new process loads.
func TestSessionsFollowTheFileAcrossARestart(t *testing.T) {
	first := newFiled(t, "", true)
	alice := first.mustSignIn(t, "alice", "pw")
	bob := first.mustSignIn(t, "bob", "bob")
	first.srv.Close()
	putUser(t, first.path, "alice", "while-down", "video", "chat")

	second := newFiled(t, first.path, true)
	if status, code := second.refresh(t, alice); status != http.StatusUnauthorized || code != api.CodeSessionRevoked {
		t.Errorf("alice's old session after the restart: %d %s", status, code)
	}
	if status, code := second.refresh(t, bob); status != http.StatusOK {
		t.Errorf("bob's session after the restart: %d %s", status, code)
	}

	// A session started in open demo mode has no credential: the same
	// key in front of a users file does not honour it.
	demo := newLive(t, nil, nil)
	_, ck := demo.signIn(t, 600)
	if status, code := second.refresh(t, ck); status != http.StatusUnauthorized || code != api.CodeSessionRevoked {
		t.Errorf("an open-demo session with a users file: %d %s", status, code)
	}
}

// TestOldSessionCookiesAreRefused: a cookie in the format before sessions
// carried a credential gets 401 session_invalid, not a 500 or a renewal.
func TestOldSessionCookiesAreRefused(t *testing.T) {
	f := newFiled(t, "", true)
	key, err := session.DeriveKey([]byte(sessionKey))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{"i": "OLDSESSION", "u": "alice", "g": map[string]any{"video": map[string]any{}},
		"t": 600, "c": now, "e": now + 3600})
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(append([]byte{1}, nonce...), nonce, payload, []byte("tokenlab session cookie v1"))
	old := &http.Cookie{Name: session.CookieName, Value: base64.RawURLEncoding.EncodeToString(sealed)}
	if status, code := f.refresh(t, old); status != http.StatusUnauthorized || code != api.CodeSessionInvalid {
		t.Errorf("an old-format cookie: %d %s, want 401 %s", status, code, api.CodeSessionInvalid)
	}
}

// TestSignInNormalizesUsernames: the decomposed "é" signs in as the user
// useradd wrote with the composed one, with the composed identity.
func TestSignInNormalizesUsernames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	putUser(t, path, "jos\u00e9", "pw", "video")
	f := newFiled(t, path, true)
	for _, name := range []string{"jos\u00e9", "jose\u0301"} {
		body, _ := json.Marshal(map[string]string{"username": name, "password": "pw"})
		resp, err := http.Post(f.srv.URL+"/token", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var tr api.TokenResponse
		json.NewDecoder(resp.Body).Decode(&tr)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || tr.Identity != "jos\u00e9" {
			t.Errorf("sign-in as %+q: %d, identity %+q", name, resp.StatusCode, tr.Identity)
		}
	}
	for _, name := range []string{"ali\u200bce", "\u202eecila"} {
		body, _ := json.Marshal(map[string]string{"username": name, "password": "pw"})
		resp, err := http.Post(f.srv.URL+"/token", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var e errorBody
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error.Message, "U+") {
			t.Errorf("sign-in as %+q: %d %+v, want 400 naming the code point", name, resp.StatusCode, e)
		}
	}
}
