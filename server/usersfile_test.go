package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing after 10 s.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func signInStatus(tb testing.TB, base, user, pw string) int {
	tb.Helper()
	status, _ := postJSON(tb, base+"/token", `{"username":"`+user+`","password":"`+pw+`"}`)
	return status
}

// TestUseraddWhileServing: the running server follows the users file that
// `tokenlab useradd` edits: a new user signs in without a restart, a bad
// version leaves the last good one in force, and a changed password ends
// the user's sessions, the one in `tokenlab watch` and the one over HTTP.
func TestUseraddWhileServing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	useradd := func(name, pw string) {
		t.Helper()
		if r := runCLI(t, nil, pw+"\n", "useradd", "--file", path, "--cost", "4", name); r.err != nil {
			t.Fatalf("useradd %s: %v", name, r.err)
		}
	}
	useradd("alice", "pw")
	srv := startServer(t, realEnv("TOKENLAB_USERS_FILE", path), nil)
	base, logs := srv.url, srv.logs
	base = strings.Replace(base, "localhost", "127.0.0.1", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, done := watchAsync(t, ctx, realEnv("TOKENLAB_PASSWORD", "pw"), "--server", base, "--username", "alice")
	waitFor(t, out, "connected", 1, done)
	ck := signInCookie(t, base)

	useradd("bob", "bob")
	waitUntil(t, "the server did not reload the file useradd changed", func() bool {
		return strings.Contains(logs.String(), "users file reloaded")
	})
	if got := signInStatus(t, base, "bob", "bob"); got != http.StatusOK {
		t.Fatalf("bob, added by useradd, cannot sign in: %d", got)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(path, []byte(`{"users": {"alice": `), 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the refusal of a bad users file is not logged", func() bool {
		return strings.Contains(logs.String(), "users file not reloaded")
	})
	if got := refreshStatus(t, base, ck); got != http.StatusOK {
		t.Fatalf("refresh with the bad file in place: %d", got)
	}
	if got := signInStatus(t, base, "bob", "bob"); got != http.StatusOK {
		t.Fatalf("bob's sign-in with the bad file in place: %d", got)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}

	useradd("alice", "new password")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch after the password change: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("watch did not hear its session end:\n%s", out)
	}
	if !strings.Contains(out.String(), "revoked reason=users_file") {
		t.Errorf("watch output:\n%s", out)
	}
	if got := refreshStatus(t, base, ck); got != http.StatusUnauthorized {
		t.Errorf("refresh after the password change: %d, want 401", got)
	}
	if got := signInStatus(t, base, "alice", "new password"); got != http.StatusOK {
		t.Errorf("sign-in with the new password: %d", got)
	}
	if strings.Contains(logs.String(), "$2a$") {
		t.Errorf("the log reveals a hash:\n%s", logs)
	}
}

// TestUsersFileOwnerOnly: useradd writes the file for its owner alone,
// even over a file others could read, and serve refuses a file others may
// write, saying how to fix it.
func TestUsersFileOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(`{"users": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "pw\n", "useradd", "--file", path, "--cost", "4", "alice"); r.err != nil {
		t.Fatal(r.err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("useradd left the file %04o, want 0600", perm)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	// Bounded: a serve that accepted the file would run until the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env := realEnv("TOKENLAB_USERS_FILE", path)
	err = run(ctx, []string{"tokenlab", "serve", "--port", "0"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("serve with a world-writable users file: %v", err)
	}
	r := runCLI(t, nil, "pw\n", "useradd", "--file", path, "--cost", "4", "bob")
	if r.err == nil || !strings.Contains(r.err.Error(), "chmod 600") {
		t.Errorf("useradd into a world-writable users file: %v", r.err)
	}
}

// TestUseraddNames: useradd refuses invisible characters, naming the code
// point, and treats the two Unicode forms of "é" as one name.
func TestUseraddNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	for _, name := range []string{"\u202eadmin", "ad\u200bmin", "admin\ufeff"} {
		r := runCLI(t, nil, "pw\n", "useradd", "--file", path, "--cost", "4", name)
		if r.err == nil || !strings.Contains(r.err.Error(), "U+") {
			t.Errorf("useradd %+q: %v, want an error naming the code point", name, r.err)
		}
	}
	if r := runCLI(t, nil, "pw\n", "useradd", "--file", path, "--cost", "4", "jose\u0301"); r.err != nil || !strings.Contains(r.stdout, "added") {
		t.Fatalf("useradd decomposed: %v %s", r.err, r.stdout)
	}
	if r := runCLI(t, nil, "pw\n", "useradd", "--file", path, "--cost", "4", "jos\u00e9"); r.err != nil || !strings.Contains(r.stdout, "updated") {
		t.Errorf("useradd composed after decomposed: %v %s, want an update of the same user", r.err, r.stdout)
	}
}
