package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestSessionsNeedsTheAdminToken(t *testing.T) {
	const adminToken = "admin-token-for-the-cli-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	signInCookie(t, base)

	without := runCLI(t, realEnv(), "", "sessions", "--server", base)
	if without.err == nil || !strings.Contains(without.err.Error(), "TOKENLAB_ADMIN_TOKEN") || exitCode(without.err) != 1 {
		t.Errorf("list without the admin token: %v", without.err)
	}
	with := runCLI(t, env, "", "sessions", "--server", base)
	if with.err != nil {
		t.Fatal(with.err)
	}
	if !regexp.MustCompile(`(?m)^[A-Z2-7]{26} +alice +0 +\d{4}-`).MatchString(with.stdout) ||
		!strings.Contains(with.stdout, "1 sessions, 0 connections") {
		t.Errorf("sessions list:\n%s", with.stdout)
	}
	if strings.Contains(with.stdout+with.stderr, adminToken) {
		t.Error("the admin token was printed")
	}

	unknown := runCLI(t, env, "", "sessions", "--server", base, "revoke", strings.Repeat("A", 26))
	if unknown.err != nil || !strings.Contains(unknown.stdout, "no token or connection here") {
		t.Errorf("revoke an unknown id: %v %s", unknown.err, unknown.stdout)
	}
	bad := runCLI(t, env, "", "sessions", "--server", base, "revoke", "nope")
	if bad.err == nil || !strings.Contains(bad.err.Error(), "26 characters") {
		t.Errorf("revoke a malformed id: %v", bad.err)
	}
}

func TestSessionsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"revoke"}, "one session ID"},
		{[]string{"drop", "X"}, "unknown action"},
		{[]string{"--server", "ftp://x"}, "--server must be a base URL"},
	}
	for _, tt := range tests {
		r := runCLI(t, map[string]string{}, "", append([]string{"sessions"}, tt.args...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || exitCode(r.err) != 2 {
			t.Errorf("sessions %v: %v, want a usage error saying %q", tt.args, r.err, tt.want)
		}
	}
	r := runCLI(t, map[string]string{}, "", "sessions", "--server", "http://127.0.0.1:1")
	if r.err == nil || !strings.Contains(r.err.Error(), "is the server running?") || exitCode(r.err) != 1 {
		t.Errorf("server down: %v", r.err)
	}
}

// TestSessionsFindsTheConfiguredServer runs sessions without --server: it
// must reach the server at the PORT and host the configuration names.
func TestSessionsFindsTheConfiguredServer(t *testing.T) {
	const adminToken = "admin-token-for-the-cli-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	signInCookie(t, base)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", "0.0.0.0", "127.0.0.1"} {
		env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken, "PORT", u.Port(), "TOKENLAB_HOST", host)
		r := runCLI(t, env, "", "sessions")
		if r.err != nil || !strings.Contains(r.stdout, "1 sessions") {
			t.Errorf("sessions with PORT=%s TOKENLAB_HOST=%q: %v\n%s", u.Port(), host, r.err, r.stdout)
		}
	}
	r := runCLI(t, realEnv("PORT", "0"), "", "sessions")
	if r.err == nil || !strings.Contains(r.err.Error(), "give --server") {
		t.Errorf("sessions with PORT=0: err = %v, want one asking for --server", r.err)
	}
}
