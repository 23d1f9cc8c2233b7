package main

import (
	"bufio"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/token"
)

// publicDemoSecret is the demo account's secret as anyone can read it in
// the source.
const publicDemoSecret = "tokenlab-demo-secret-twilio-rejects-these-tokens"

// forgeDemoCookies seal a session the way an attacker would who has read
// the source: the demo secret, through the HKDF steps the server takes
// with a real secret (one) or used to take (two), for a user who does not
// exist, with every grant and a day to live.
func forgeDemoCookies(tb testing.TB) []string {
	tb.Helper()
	twice, err := hkdf.Key(sha256.New, []byte(publicDemoSecret), nil, "tokenlab session key v1", config.MinSessionKeyLen)
	if err != nil {
		tb.Fatal(err)
	}
	return []string{forgeCookie(tb, []byte(publicDemoSecret)), forgeCookie(tb, twice)}
}

func forgeCookie(tb testing.TB, secret []byte) string {
	tb.Helper()
	key, err := session.DeriveKey(secret)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := session.NewManager(session.Options{Key: key, Lifetime: 24 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	value, err := m.Seal(session.Session{
		ID: rand.Text(), Identity: "mallory", TTL: 3600,
		Grants:  token.Grants{Video: &token.VideoGrant{}, Chat: &token.ChatGrant{ServiceSID: "IS00000000000000000000000000000000"}},
		Created: now, Expires: now.Add(24 * time.Hour),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return value
}

func refreshWith(tb testing.TB, base, cookie string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/token/refresh", nil)
	req.Header.Set("Cookie", session.CookieName+"="+cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func signInAs(tb testing.TB, base, user, password string) string {
	tb.Helper()
	resp, err := http.Post(base+"/token", "application/json", strings.NewReader(`{"username":"`+user+`","password":"`+password+`"}`))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == session.CookieName {
			return c.Value
		}
	}
	tb.Fatalf("sign-in as %s: %d, no session cookie", user, resp.StatusCode)
	return ""
}

// TestDemoSessionsCannotBeForged runs the demo account with a users file,
// with and without a state directory: a cookie sealed under the key that
// public material derives is refused, while real sign-ins keep working,
// across a restart when the state directory keeps the random key.
func TestDemoSessionsCannotBeForged(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.json")
	if r := runCLI(t, nil, "pa55word\n", "useradd", "--file", users, "--cost", "10", "--password-stdin", "susan"); r.err != nil {
		t.Fatal(r.err)
	}
	stateDir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"memory", map[string]string{config.EnvUsersFile: users}},
		{"state dir", map[string]string{config.EnvUsersFile: users, config.EnvStateDir: stateDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startServer(t, tc.env, nil).url
			for _, forged := range forgeDemoCookies(t) {
				if status, body := refreshWith(t, base, forged); status != http.StatusUnauthorized || !strings.Contains(body, "session_invalid") {
					t.Fatalf("a cookie sealed with the public demo secret: %d %s, want 401 session_invalid", status, body)
				}
			}
			cookie := signInAs(t, base, "susan", "pa55word")
			if status, body := refreshWith(t, base, cookie); status != http.StatusOK {
				t.Fatalf("a real session: %d %s", status, body)
			}
		})
	}

	// The state directory keeps the key, private, so a restart keeps
	// sessions; a key file others can read is refused.
	keyFile := filepath.Join(stateDir, "session-key")
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("session key file: %v %v, want mode 0600", info, err)
	}
	env := map[string]string{config.EnvUsersFile: users, config.EnvStateDir: stateDir}
	base := startServer(t, env, nil).url
	cookie := signInAs(t, base, "susan", "pa55word")
	base2 := startServer(t, env, nil).url
	if status, body := refreshWith(t, base2, cookie); status != http.StatusOK {
		t.Errorf("a session after a restart with the same state dir: %d %s", status, body)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	err = runBriefly(t, env)
	if err == nil || !strings.Contains(err.Error(), config.EnvStateDir) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a session key others can read: %v, want a refusal naming %s and the fix", err, config.EnvStateDir)
	}
}

// runBriefly runs `tokenlab serve` and expects it to refuse to start: it
// returns the error, or fails when the server starts listening.
func runBriefly(tb testing.TB, env map[string]string) error {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tokenlab", "serve", "--port", "0"}, func(k string) string { return env[k] },
			strings.NewReader(""), io.Discard, logs)
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case <-deadline:
			tb.Fatalf("serve neither started nor failed:\n%s", logs)
		case <-time.After(10 * time.Millisecond):
		}
		if strings.Contains(logs.String(), "tokenlab listening") {
			cancel()
			<-done
			tb.Fatalf("serve started:\n%s", logs)
		}
	}
}

// TestStateDirRefusedAtStart: a state directory the process cannot write
// and state files it cannot read exactly stop the server at start, with
// an error naming the variable and the file.
func TestStateDirRefusedAtStart(t *testing.T) {
	if info, err := os.Stat("/proc/self"); err != nil || !info.IsDir() {
		t.Skip("needs /proc, a directory nobody can create files in")
	}
	for _, tc := range []struct {
		name, file, content string
	}{
		{"unwritable", "", ""},
		{"legacy misspelt key", "revoked-sessions.json", `{"revokd":{"ABC":99999999999}}`},
		{"legacy empty object", "revoked-sessions.json", `{}`},
		{"legacy null", "revoked-sessions.json", `null`},
		{"legacy trailing data", "revoked-sessions.json", `{"revoked":{}} {}`},
		{"log unknown key", "revoked-sessions.jsonl", `{"id":"ABC","until":99999999999,"extra":1}` + "\n"},
		{"log empty object", "revoked-sessions.jsonl", "{}\n"},
		{"log null", "revoked-sessions.jsonl", "null\n"},
		{"log missing until", "revoked-sessions.jsonl", `{"id":"ABC"}` + "\n"},
		{"log overlong line", "revoked-sessions.jsonl", `{"id":"` + strings.Repeat("A", 8000) + `","until":99999999999}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := "/proc/self"
			if tc.file != "" {
				dir = t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := runBriefly(t, map[string]string{config.EnvStateDir: dir})
			if err == nil || !strings.Contains(err.Error(), config.EnvStateDir) {
				t.Fatalf("serve: %v, want an error naming %s", err, config.EnvStateDir)
			}
			if tc.file != "" && !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error does not name the file %s: %v", tc.file, err)
			}
			t.Log(err)
		})
	}
}

// TestShutdownCutsAStraggler sends the stop while one request's body is
// still arriving a byte a second: the server waits its shutdown timeout,
// cuts the connection, says so, and returns cleanly (exit status 0).
func TestShutdownCutsAStraggler(t *testing.T) {
	lim := defaultLimits()
	lim.shutdownTimeout = 300 * time.Millisecond
	srv := startServer(t, nil, &lim)
	addr, logs := srv.addr, srv.logs

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Expect: 100-continue makes the server say when the handler starts
	// reading the body: from then on the request is in flight.
	fmt.Fprintf(c, "POST /token/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\nExpect: 100-continue\r\n\r\n", addr)
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	trickling, stop := make(chan struct{}), make(chan struct{})
	defer func() { close(stop); <-trickling }()
	go func() { // one byte a second, until the server cuts the connection
		defer close(trickling)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if _, err := c.Write([]byte("{")); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()

	srv.shutdown()
	if err := srv.wait(lim.shutdownTimeout + 5*time.Second); err != nil {
		t.Fatalf("serve with a straggler: %v, want nil (exit 0) within its shutdown timeout of %v\n%s", err, lim.shutdownTimeout, logs)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(br); err != nil && !isConnReset(err) {
		t.Errorf("the straggler's connection: %v, want it closed", err)
	}
	if !strings.Contains(logs.String(), "cutting their connections") || !strings.Contains(logs.String(), c.LocalAddr().String()) {
		t.Errorf("the log does not name the straggler %s:\n%s", c.LocalAddr(), logs)
	}
}

func isConnReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
