package session_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/token"
)

// clock is a settable fake clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func mustKey(tb testing.TB, s string) []byte {
	tb.Helper()
	k, err := session.DeriveKey([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustManager remembers opened cookies, as the server's manager does.
func mustManager(tb testing.TB, key []byte, c *clock, rev *session.Revocations) *session.Manager {
	tb.Helper()
	return mustManagerRemembering(tb, key, c, rev, 16)
}

func mustManagerRemembering(tb testing.TB, key []byte, c *clock, rev *session.Revocations, remember int) *session.Manager {
	tb.Helper()
	m, err := session.NewManager(session.Options{Key: key, Lifetime: time.Hour, Now: c.now, Revocations: rev, Remember: remember})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

var grants = token.Grants{Identity: "alice", Video: &token.VideoGrant{Room: "lobby"}}

func TestSealOpenRoundTrip(t *testing.T) {
	c := newClock()
	m := mustManager(t, mustKey(t, "secret"), c, nil)
	s, value, err := m.Start("alice", grants, 600)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ID) != 26 {
		t.Errorf("session id %q: want the 26 characters of rand.Text", s.ID)
	}
	if !s.Expires.Equal(c.t.Add(time.Hour)) {
		t.Errorf("Expires = %v, want %v", s.Expires, c.t.Add(time.Hour))
	}
	got, err := m.Open(value)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got.ID != s.ID || got.Identity != "alice" || got.TTL != 600 || got.Grants.Video == nil || got.Grants.Video.Room != "lobby" ||
		!got.Expires.Equal(s.Expires) || !got.Created.Equal(s.Created) {
		t.Errorf("Open = %+v, want %+v", got, s)
	}
	// A restart with the same key opens the same cookie.
	again := mustManager(t, mustKey(t, "secret"), c, nil)
	if _, err := again.Open(value); err != nil {
		t.Errorf("Open after restart: %v", err)
	}
}

func TestCookieHoldsNothingReadable(t *testing.T) {
	m := mustManager(t, mustKey(t, "secret"), newClock(), nil)
	s, value, err := m.Start("alice-the-identity", grants, 600)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"alice-the-identity", "lobby", s.ID} {
		if bytes.Contains(raw, []byte(secret)) || strings.Contains(value, secret) {
			t.Errorf("the cookie shows %q in readable form", secret)
		}
	}
	// Two seals of one session differ (random nonce).
	v2, _ := m.Seal(s)
	if v2 == value {
		t.Error("two seals of one session are identical: the nonce is not random")
	}
}

// TestOpenRefuses runs with and without remembering opened cookies: a
// remembered session must expire and be revoked exactly as one opened in
// full, so the cookie is opened once before the checks of time and
// revocation.
func TestOpenRefuses(t *testing.T) {
	for _, remember := range []int{0, 16} {
		t.Run(fmt.Sprintf("remember %d", remember), func(t *testing.T) { testOpenRefuses(t, remember) })
	}
}

func testOpenRefuses(t *testing.T, remember int) {
	c := newClock()
	m := mustManagerRemembering(t, mustKey(t, "secret"), c, nil, remember)
	s, value, err := m.Start("alice", grants, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open(value); err != nil {
		t.Fatalf("Open of a fresh cookie: %v", err)
	}
	flip := []byte(value)
	i := len(flip) / 2
	if flip[i] == 'A' {
		flip[i] = 'B'
	} else {
		flip[i] = 'A'
	}
	foreign := mustManager(t, mustKey(t, "other secret"), c, nil)
	_, foreignValue, _ := foreign.Start("alice", grants, 600)
	versioned, _ := base64.RawURLEncoding.DecodeString(value)
	versioned[0] = 9

	tests := []struct {
		name  string
		value string
		want  error
	}{
		{"empty", "", session.ErrNoSession},
		{"not base64url", "!!!not*base64", session.ErrMalformed},
		{"truncated to a few bytes", value[:10], session.ErrMalformed},
		{"truncated tail", value[:len(value)-4], session.ErrForged},
		{"one character changed", string(flip), session.ErrForged},
		{"sealed with another key", foreignValue, session.ErrForged},
		{"unknown format version", base64.RawURLEncoding.EncodeToString(versioned), session.ErrMalformed},
		{"oversized", strings.Repeat("A", session.MaxCookieBytes+1), session.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Open(tt.value)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q mentions key material", err)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		c.add(time.Hour)
		defer c.add(-time.Hour)
		if _, err := m.Open(value); !errors.Is(err, session.ErrExpired) {
			t.Fatalf("Open after the lifetime = %v, want ErrExpired", err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		if err := m.Revoke(s); err != nil {
			t.Fatal(err)
		}
		for range 2 { // and again: a refused cookie stays refused
			if _, err := m.Open(value); !errors.Is(err, session.ErrRevoked) {
				t.Fatalf("Open after Revoke = %v, want ErrRevoked", err)
			}
		}
	})
}

func TestSealRefusesOversizedSession(t *testing.T) {
	m := mustManager(t, mustKey(t, "secret"), newClock(), nil)
	big := token.Grants{Video: &token.VideoGrant{Room: strings.Repeat("r", 4000)}}
	_, _, err := m.Start("alice", big, 600)
	if !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "3800") {
		t.Fatalf("Start with huge grants = %v, want ErrTooLarge naming the limit", err)
	}
}

func TestNewManagerChecksOptions(t *testing.T) {
	if _, err := session.NewManager(session.Options{Key: []byte("short"), Lifetime: time.Hour}); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("short key: %v", err)
	}
	if _, err := session.NewManager(session.Options{Key: make([]byte, 32)}); err == nil || !strings.Contains(err.Error(), "lifetime") {
		t.Errorf("zero lifetime: %v", err)
	}
	if _, err := session.DeriveKey(nil); err == nil {
		t.Error("DeriveKey(nil) succeeded")
	}
	a, b := mustKey(t, "x"), mustKey(t, "y")
	if bytes.Equal(a, b) || bytes.Equal(a, mustKey(t, "x")) == false || len(a) != session.KeySize {
		t.Error("DeriveKey is not a deterministic function of the secret")
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, tls := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/token", nil)
		if tls {
			r.TLS = &tlsState
		}
		w := httptest.NewRecorder()
		exp := time.Unix(1_800_003_600, 0)
		session.SetCookie(w, r, "sealed", exp)
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%d cookies set", len(cookies))
		}
		ck := cookies[0]
		if ck.Name != session.CookieName || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" ||
			ck.Secure != tls || !ck.Expires.Equal(exp) {
			t.Errorf("tls=%v: cookie %+v", tls, ck)
		}
		w = httptest.NewRecorder()
		session.ClearCookie(w, r)
		if ck := w.Result().Cookies()[0]; ck.MaxAge >= 0 || ck.Value != "" {
			t.Errorf("ClearCookie: %+v", ck)
		}
	}
}

var tlsState = tls.ConnectionState{HandshakeComplete: true}

func TestRevocationsExpireWithTheSession(t *testing.T) {
	c := newClock()
	r := session.NewRevocations(c.now)
	if err := r.Add("a", c.t.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("b", c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !r.Has("a") || !r.Has("b") || r.Has("c") {
		t.Fatal("Has does not reflect Add")
	}
	c.add(2 * time.Minute)
	if r.Has("a") {
		t.Error("an entry outlived its session's expiry")
	}
	if err := r.Add("c", c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 2 {
		t.Errorf("Len = %d, want 2 (b and c)", r.Len())
	}
}

func TestRevocationsPersist(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	path := filepath.Join(dir, session.RevocationsFile)
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	m := mustManager(t, mustKey(t, "secret"), c, r)
	s, value, _ := m.Start("alice", grants, 600)
	if err := m.Revoke(s); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("revocation file mode %v, want 0600", info.Mode().Perm())
	}
	// A restart reading the same file still refuses the cookie.
	r.Close()
	r2, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	m2 := mustManager(t, mustKey(t, "secret"), c, r2)
	if _, err := m2.Open(value); !errors.Is(err, session.ErrRevoked) {
		t.Fatalf("Open after restart = %v, want ErrRevoked", err)
	}

	if err := os.WriteFile(path, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r2.Close()
	if _, err := session.OpenRevocations(dir, c.now); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: %v, want an error naming the file", err)
	}
}
