package main

import (
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
