package session

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// len is the number of remembered sessions.
func (o *opened) len() int {
	if o == nil {
		return 0
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	return len(o.m)
}

func rememberingManager(t *testing.T, now *time.Time, remember int) *Manager {
	t.Helper()
	key, err := DeriveKey([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Options{Key: key, Lifetime: time.Hour, Now: func() time.Time { return *now }, Remember: remember})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOpenedOnlyRemembersGoodCookies: a value is remembered after it
// opened, never after it failed, and forgotten once it expires.
func TestOpenedOnlyRemembersGoodCookies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := rememberingManager(t, &now, 8)
	g := token.Grants{Video: &token.VideoGrant{Room: "lobby"}}
	_, value, err := m.Start("alice", g, 600)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{value[:len(value)-3], "AAAA" + value[4:], "not base64!"} {
		if _, err := m.Open(bad); err == nil {
			t.Fatalf("Open(%q) succeeded", bad)
		}
	}
	if n := m.opened.len(); n != 0 {
		t.Fatalf("after failed opens the cache holds %d sessions, want 0", n)
	}
	first, err := m.Open(value)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Open(value)
	if err != nil {
		t.Fatal(err)
	}
	if m.opened.len() != 1 || again.ID != first.ID || again.Grants.Video.Room != "lobby" || !again.Expires.Equal(first.Expires) {
		t.Fatalf("second open: %+v (cache %d), want %+v from the cache", again, m.opened.len(), first)
	}
	now = now.Add(time.Hour)
	if _, err := m.Open(value); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open after the lifetime = %v, want ErrExpired", err)
	}
	if n := m.opened.len(); n != 0 {
		t.Fatalf("an expired session stays remembered: %d", n)
	}
}

// TestOpenedIsBounded: more sessions than the bound never grow the cache
// past it, long values are not kept, and every session still opens.
func TestOpenedIsBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := rememberingManager(t, &now, 8)
	for i := range 100 {
		s, value, err := m.Start(fmt.Sprintf("user%d", i), token.Grants{}, 600)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Open(value)
		if err != nil || got.ID != s.ID {
			t.Fatalf("Open #%d = %+v, %v", i, got, err)
		}
		if n := m.opened.len(); n > 8 {
			t.Fatalf("after %d sessions the cache holds %d, its bound is 8", i+1, n)
		}
	}
	m = rememberingManager(t, &now, 8)
	long := token.Grants{Video: &token.VideoGrant{Room: strings.Repeat("r", MaxRememberedCookieBytes)}}
	_, value, err := m.Start("alice", long, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open(value); err != nil {
		t.Fatal(err)
	}
	if n := m.opened.len(); n != 0 {
		t.Fatalf("a %d-byte cookie was remembered", len(value))
	}
}

// TestOpenedConcurrently opens, revokes and evicts from many goroutines;
// run with -race.
func TestOpenedConcurrently(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := rememberingManager(t, &now, 4)
	type started struct {
		s     Session
		value string
	}
	var all []started
	for i := range 16 {
		s, value, err := m.Start(fmt.Sprintf("user%d", i), token.Grants{}, 600)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, started{s, value})
	}
	if err := m.Revoke(all[0].s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				st := all[(w+i)%len(all)]
				got, err := m.Open(st.value)
				switch {
				case st.s.ID == all[0].s.ID:
					if !errors.Is(err, ErrRevoked) {
						t.Errorf("revoked session opened: %v", err)
					}
				case err != nil || got.ID != st.s.ID:
					t.Errorf("Open = %s, %v; want %s", got.ID, err, st.s.ID)
				}
			}
		})
	}
	wg.Wait()
	if n := m.opened.len(); n > 4 {
		t.Errorf("cache holds %d, its bound is 4", n)
	}
}
