package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveCtl runs `tokenlab serve` on port ("0": any) and returns its base
// URL on 127.0.0.1 and a stop function that waits for it to end.
func serveCtl(tb testing.TB, env map[string]string, port string) (base string, stop func()) {
	tb.Helper()
	vars := map[string]string{"PORT": port}
	for k, v := range env {
		vars[k] = v
	}
	s := startServer(tb, vars, nil)
	stop = func() {
		if err := s.stop(); err != nil {
			tb.Errorf("serve returned %v", err)
		}
	}
	return strings.Replace(s.url, "localhost", "127.0.0.1", 1), stop
}

// signInCookie signs in over HTTP and returns the session cookie.
func signInCookie(tb testing.TB, base string) *http.Cookie {
	tb.Helper()
	resp, err := http.Post(base+"/token", "application/json", strings.NewReader(`{"username":"alice","password":"pw"}`))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "tokenlab_session" {
			return c
		}
	}
	tb.Fatalf("sign-in: %s, no session cookie", resp.Status)
	return nil
}

func refreshStatus(tb testing.TB, base string, ck *http.Cookie) int {
	tb.Helper()
	req, _ := http.NewRequest("POST", base+"/token/refresh", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRestartKeepsSessions: a restart with the same configuration signs
// nobody out; another key does.
func TestRestartKeepsSessions(t *testing.T) {
	env := realEnv()
	base, stop := serveCtl(t, env, "0")
	ck := signInCookie(t, base)
	stop()

	base, stop = serveCtl(t, env, "0")
	if got := refreshStatus(t, base, ck); got != http.StatusOK {
		t.Errorf("renewal with the old cookie after a restart: %d, want 200", got)
	}
	stop()

	base, _ = serveCtl(t, realEnv("TOKENLAB_SESSION_KEY", strings.Repeat("ab", 32)), "0")
	if got := refreshStatus(t, base, ck); got != http.StatusUnauthorized {
		t.Errorf("renewal with a cookie sealed under another key: %d, want 401", got)
	}
}

// watchLine is one printed event: a UTC millisecond timestamp, the event.
var watchLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ([a-z-]+)( .*)?$`)

// events returns the event names watch printed, checking every line's shape.
func events(tb testing.TB, out string) []string {
	tb.Helper()
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := watchLine.FindStringSubmatch(line)
		if m == nil {
			tb.Fatalf("watch printed %q, not a timestamped event", line)
		}
		names = append(names, m[1])
	}
	return names
}

func countEvents(names []string, name string) int {
	n := 0
	for _, s := range names {
		if s == name {
			n++
		}
	}
	return n
}

func TestWatchRenewsOnEveryWarning(t *testing.T) {
	base, _ := serveCtl(t, realEnv(), "0")
	r := runCLI(t, realEnv(), "", "watch", "--server", base, "--username", "alice", "--password", "watch-pw-4711", "--ttl", "3", "--for", "5500ms")
	if r.err != nil {
		t.Fatalf("watch: %v\n%s", r.err, r.stdout)
	}
	names := events(t, r.stdout)
	if names[0] != "signed-in" || names[1] != "connected" || names[len(names)-1] != "stopped" {
		t.Errorf("events %v", names)
	}
	// A 3 s token warns 1 s before expiry; each renewal is a new 3 s token.
	if e, n := countEvents(names, "expiring"), countEvents(names, "renewed"); e < 2 || n < e-1 || countEvents(names, "expired") != 0 {
		t.Errorf("in 5.5 s: %d warnings, %d renewals, %d expiries; want a renewal per warning and no expiry\n%s",
			e, n, countEvents(names, "expired"), r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "watch-pw-4711") {
		t.Error("watch printed the password")
	}
}

// watchAsync runs watch until it returns; its output is read while it runs.
func watchAsync(tb testing.TB, ctx context.Context, env map[string]string, args ...string) (*syncBuffer, <-chan error) {
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"tokenlab", "watch"}, args...), func(k string) string { return env[k] },
			strings.NewReader(""), out, io.Discard)
	}()
	return out, done
}

// waitFor polls out until it holds n lines with event name.
func waitFor(tb testing.TB, out *syncBuffer, name string, n int, done <-chan error) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(out.String(), "Z "+name) >= n {
			return
		}
		select {
		case err := <-done:
			tb.Fatalf("watch ended (%v) before %d %q events:\n%s", err, n, name, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("no %d %q events in 15 s:\n%s", n, name, out)
}

func TestWatchExitsWhenRevoked(t *testing.T) {
	base, _ := serveCtl(t, realEnv(), "0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := realEnv("TOKENLAB_PASSWORD", "pw")
	out, done := watchAsync(t, ctx, env, "--server", base, "--username", "alice")
	waitFor(t, out, "connected", 1, done)

	list := runCLI(t, env, "", "sessions", "--server", base, "list")
	if list.err != nil {
		t.Fatal(list.err)
	}
	id := regexp.MustCompile(`(?m)^([A-Z2-7]{26}) +alice +1 `).FindStringSubmatch(list.stdout)
	if id == nil {
		t.Fatalf("sessions list shows no alice session with one connection:\n%s", list.stdout)
	}
	rev := runCLI(t, env, "", "sessions", "--server", base, "revoke", id[1])
	if rev.err != nil || !strings.Contains(rev.stdout, "revoked "+id[1]) {
		t.Fatalf("sessions revoke: %v %s", rev.err, rev.stdout)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch after revoke: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not exit after its session was revoked")
	}
	if !strings.Contains(out.String(), "revoked reason=operator") {
		t.Errorf("watch output:\n%s", out)
	}
}

func TestWatchReconnectsAfterARestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := realEnv()
	base, stop := serveCtl(t, env, strconv.Itoa(port))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, done := watchAsync(t, ctx, env, "--server", base, "--username", "alice", "--password", "pw")
	waitFor(t, out, "connected", 1, done)
	stop() // the server says 1001 going away
	waitFor(t, out, "reconnecting", 1, done)
	if !strings.Contains(out.String(), "close 1001 (going away)") {
		t.Errorf("the first drop was not the server's going-away close:\n%s", out)
	}
	serveCtl(t, env, strconv.Itoa(port))
	waitFor(t, out, "connected", 2, done)
	// The restarted server did not know the token: watch asked for one.
	waitFor(t, out, "renewed", 1, done)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch after cancel: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when its context was cancelled")
	}
	names := events(t, out.String())
	if names[len(names)-1] != "stopped" || countEvents(names, "signed-in") != 1 {
		t.Errorf("events %v: want one sign-in (the cookie survived the restart) and a final stop", names)
	}
}

func TestWatchUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no username", []string{"--password", "x"}, "--username is required", 2},
		{"no password", []string{"--username", "x"}, "--password", 2},
		{"bad server", []string{"--server", "localhost:8080", "--username", "x", "--password", "y"}, "--server must be a base URL", 2},
		{"bad ttl", []string{"--username", "x", "--password", "y", "--ttl", "0x"}, "ttl", 2},
		{"ttl too long", []string{"--username", "x", "--password", "y", "--ttl", "90000"}, "86400", 2},
		{"server down", []string{"--server", "http://127.0.0.1:1", "--username", "x", "--password", "y"}, "is the server running?", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, map[string]string{}, "", append([]string{"watch"}, tt.args...)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || exitCode(r.err) != tt.code {
				t.Errorf("err %v (exit %d), want %q and exit %d", r.err, exitCode(r.err), tt.want, tt.code)
			}
		})
	}
}
