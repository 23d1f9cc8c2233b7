package session_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/session"
)

// atomicClock is a clock goroutines read while the test moves it.
type atomicClock struct{ unix atomic.Int64 }

func (c *atomicClock) now() time.Time        { return time.Unix(c.unix.Load(), 0) }
func (c *atomicClock) add(d time.Duration)   { c.unix.Add(int64(d / time.Second)) }
func newAtomicClock() *atomicClock           { c := &atomicClock{}; c.unix.Store(1_800_000_000); return c }
func logLines(tb testing.TB, dir string) int { return bytes.Count(mustRead(tb, dir), []byte{'\n'}) }

func mustRead(tb testing.TB, dir string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, session.RevocationsFile))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestRevocationLogCompactsUnderLoad revokes from many goroutines at once
// while others check and compactions run, with half the entries expiring
// midway: after a restart every live revocation is there, none of the
// expired ones, and the log has shrunk to about the live set.
func TestRevocationLogCompactsUnderLoad(t *testing.T) {
	c := newAtomicClock()
	dir := t.TempDir()
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 600
	id := func(w, i int) string { return fmt.Sprintf("W%02dI%04d", w, i) }
	// First, entries that will expire: short-lived sessions.
	for w := range writers {
		for i := range each / 2 {
			if err := r.Add(id(w, i), c.now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.add(2 * time.Minute)

	start := make(chan struct{})
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := each / 2; i < each; i++ {
				if err := r.Add(id(w, i), c.now().Add(time.Hour)); err != nil {
					t.Error(err)
					return
				}
				if !r.Has(id(w, i)) {
					wrong.Add(1)
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 3 {
				if err := r.Compact(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d revocations were not in force when Add returned", n)
	}
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	live := writers * each / 2
	if n := logLines(t, dir); n != live {
		t.Errorf("the compacted log has %d lines, want the %d live entries", n, live)
	}
	r.Close()

	r2, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for w := range writers {
		for i := range each {
			if got, want := r2.Has(id(w, i)), i >= each/2; got != want {
				t.Fatalf("after a restart Has(%s) = %v, want %v", id(w, i), got, want)
			}
		}
	}
}

// TestRevocationLogCompactsByItself: once the log holds more than twice
// the live entries, an Add starts a compaction in the background.
func TestRevocationLogCompactsByItself(t *testing.T) {
	c := newAtomicClock()
	dir := t.TempDir()
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 3000 {
		if err := r.Add(fmt.Sprint("old", i), c.now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	c.add(2 * time.Minute)
	for i := range 20 { // each drops up to 256 expired entries
		if err := r.Add(fmt.Sprint("new", i), c.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Compact waits for the one running, then compacts what is left.
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	if n := logLines(t, dir); n != 20 {
		t.Errorf("log has %d lines after compaction, want 20", n)
	}
	if r.Len() != 20 {
		t.Errorf("Len = %d: expired entries are not pruned as new ones arrive", r.Len())
	}
}

// TestRevocationLogImportsTheLegacyFile reads the single-object file of
// earlier versions into the log, then removes it.
func TestRevocationLogImportsTheLegacyFile(t *testing.T) {
	c := newAtomicClock()
	dir := t.TempDir()
	legacy := filepath.Join(dir, "revoked-sessions.json")
	content := fmt.Sprintf(`{"revoked":{"LIVE":%d,"GONE":%d}}`, c.now().Add(time.Hour).Unix(), c.now().Add(-time.Hour).Unix())
	if err := os.WriteFile(legacy, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the legacy file is still there: %v", err)
	}
	r2, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if !r2.Has("LIVE") || r2.Has("GONE") {
		t.Errorf("imported: LIVE %v GONE %v, want true false", r2.Has("LIVE"), r2.Has("GONE"))
	}
}

// TestRevocationLogDropsATornLastLine: a crash in the middle of an append
// leaves a line without its newline; that revocation was never reported
// saved, so the log is cut back to its last whole line and stays usable.
func TestRevocationLogDropsATornLastLine(t *testing.T) {
	c := newAtomicClock()
	dir := t.TempDir()
	whole := fmt.Sprintf(`{"id":"KEPT","until":%d}`+"\n", c.now().Add(time.Hour).Unix())
	if err := os.WriteFile(filepath.Join(dir, session.RevocationsFile), []byte(whole+`{"id":"TO`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add("NEXT", c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r2, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatalf("the log after a torn line and an append: %v\n%s", err, mustRead(t, dir))
	}
	defer r2.Close()
	if !r2.Has("KEPT") || !r2.Has("NEXT") {
		t.Errorf("KEPT %v NEXT %v, want both", r2.Has("KEPT"), r2.Has("NEXT"))
	}
}

// TestRevocationLogRemovesAnInterruptedCompaction: a process that ended
// in the middle of a compaction leaves its temporary file; the next start
// removes it and keeps the log.
func TestRevocationLogRemovesAnInterruptedCompaction(t *testing.T) {
	c := newAtomicClock()
	dir := t.TempDir()
	r, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add("KEPT", c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	stale := filepath.Join(dir, ".revoked-123.tmp")
	if err := os.WriteFile(stale, []byte(`{"id":"HALF`), 0o600); err != nil {
		t.Fatal(err)
	}
	r2, err := session.OpenRevocations(dir, c.now)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the interrupted compaction's file is still there: %v", err)
	}
	if !r2.Has("KEPT") {
		t.Error("the log lost an entry")
	}
}
