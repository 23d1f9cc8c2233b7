package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runWithin runs tokenlab like runCLI, failing the test if it has not
// returned by the deadline: a bcrypt cost of 31 would otherwise run for
// years.
func runWithin(tb testing.TB, d time.Duration, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	done := make(chan result, 1)
	go func() { done <- runCLI(tb, env, stdin, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		tb.Fatalf("tokenlab %s still running after %v", strings.Join(args, " "), d)
		return result{}
	}
}

// useradd refuses costs outside the accepted range before hashing, so a
// typo cannot hang it or write a hash that would make every sign-in, and
// every unknown username, cost seconds.
func TestUseraddRefusesCostsOutsideTheRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	for _, cost := range []string{"3", "15", "31"} {
		r := runWithin(t, 20*time.Second, nil, "pa55word\n", "useradd", "--file", path, "--cost", cost, "susan")
		if r.err == nil || !strings.Contains(r.err.Error(), "--cost must be from 4 to 14") {
			t.Errorf("--cost %s: %v, want refused naming the range", cost, r.err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("--cost %s wrote the file", cost)
		}
	}
	r := runWithin(t, 20*time.Second, nil, "pa55word\n", "useradd", "--file", path, "--cost", "4", "susan")
	if r.err != nil || !strings.Contains(r.stderr, "cheap to crack") {
		t.Errorf("--cost 4: %v, stderr %q; want added with a warning", r.err, r.stderr)
	}
}

// A users file holding a hash of cost 31 (written by hand, or by an older
// useradd) stops start-up at once with the user's name, instead of
// hashing a dummy for years while ignoring SIGTERM.
func TestServeRefusesAUsersFileOutsideTheCostRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	if r := runCLI(t, nil, "pa55word\n", "useradd", "--file", path, "--cost", "4", "susan"); r.err != nil {
		t.Fatal(r.err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "$04$", "$31$", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tokenlab", "serve", "--port", "0"}, func(k string) string { return realEnv("TOKENLAB_USERS_FILE", path)[k] },
			strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `user "susan": bcrypt cost 31`) {
			t.Errorf("serve = %v, want refused naming susan and the cost", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve still starting after 20 s with a cost-31 hash")
	}
}
