package hub

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestLabDelayWaitsOnTheClock: a delayed renewal is answered once the
// delay has passed on the clock, not before, and a caller that gives up
// is let go at once and still uses up its faulted renewal.
func TestLabDelayWaitsOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		defer f.h.Shutdown()
		s := newSession(600)
		f.signIn(t, s)
		if err := f.h.FailRenewals(s.ID, Fault{Count: 2, Delay: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := f.h.Renew(context.Background(), s); done <- err }()
		time.Sleep(10*time.Second - time.Millisecond)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("renewal answered before its delay: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
		if err := <-done; err != nil || f.mints.Load() != 1 {
			t.Fatalf("delayed renewal: %v, %d mints", err, f.mints.Load())
		}

		ctx, cancel := context.WithCancel(context.Background())
		go func() { _, err := f.h.Renew(ctx, s); done <- err }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("a renewal whose caller left: %v", err)
		}
		// Both faulted renewals are used up: the next one is not held.
		start := time.Now()
		time.Sleep(2 * time.Second) // out of the coalescing window
		if _, err := f.h.Renew(context.Background(), s); err != nil || time.Since(start) != 2*time.Second {
			t.Fatalf("renewal after the fault: %v after %v", err, time.Since(start))
		}
	})
}

// TestLabFaultsEndWithTheSession: a revoked session's orders are gone,
// and orders for a session the hub does not track are refused.
func TestLabFaultsEndWithTheSession(t *testing.T) {
	f := newFixture(t, Options{})
	defer f.h.Shutdown()
	s := newSession(600)
	f.signIn(t, s)
	if err := f.h.Skew(s.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.h.Revoke(s.ID, "operator")
	f.h.lab.mu.Lock()
	n := len(f.h.lab.m)
	f.h.lab.mu.Unlock()
	if n != 0 {
		t.Errorf("%d sessions keep lab faults after the revoke", n)
	}
	for name, err := range map[string]error{
		"expire": func() error { _, err := f.h.ExpireNow(s.ID); return err }(),
		"fail":   f.h.FailRenewals("NOPE", Fault{Count: 1, Status: 503}),
		"skew":   f.h.Skew("NOPE", time.Second),
		"drop":   func() error { _, err := f.h.Drop("NOPE", 1001); return err }(),
	} {
		if !errors.Is(err, ErrNotLive) {
			t.Errorf("%s on an unknown session: %v, want ErrNotLive", name, err)
		}
	}
}
