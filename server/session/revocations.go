package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RevocationsFile is the file name used inside a state directory.
const RevocationsFile = "revoked-sessions.json"

// Revocations is the list of sessions ended before their cookies expire.
// It is checked on every use of a cookie. An entry is dropped once the
// session's absolute expiry has passed, since the cookie is refused anyway
// from then on, so the list never outgrows one session lifetime of logouts.
//
// Without a file the list lives in memory only, and a restart forgets it: a
// revoked cookie that was copied before logout would work again until its
// absolute expiry. With a file (a state directory in the configuration)
// every change is written through, and a restart keeps the revocations.
type Revocations struct {
	mu   sync.Mutex
	now  func() time.Time
	path string
	// until maps a session id to the unix second its cookie expires.
	until map[string]int64
}

// NewRevocations returns an empty in-memory list.
func NewRevocations(now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{now: now, until: make(map[string]int64)}
}

// LoadRevocations returns a list persisted in path, reading the entries
// already there (a missing file is an empty list).
func LoadRevocations(path string, now func() time.Time) (*Revocations, error) {
	r := NewRevocations(now)
	r.path = path
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("session: reading the revocation list: %w", err)
	}
	var f revocationFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("session: the revocation list %s is not valid JSON (fix or delete it): %w", path, err)
	}
	if f.Revoked != nil {
		r.until = f.Revoked
	}
	r.prune()
	return r, nil
}

type revocationFile struct {
	Revoked map[string]int64 `json:"revoked"` // session id -> unix expiry
}

// Add revokes the session id until its absolute expiry, writing the list
// through to its file when it has one.
func (r *Revocations) Add(id string, until time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.until[id] = until.Unix()
	r.prune()
	return r.save()
}

// Has reports whether id is revoked.
func (r *Revocations) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.until[id]
	if ok && r.now().Unix() >= until {
		delete(r.until, id) // the cookie has expired anyway
		return false
	}
	return ok
}

// Len is the number of entries, expired ones included until pruned.
func (r *Revocations) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.until)
}

func (r *Revocations) prune() {
	now := r.now().Unix()
	for id, until := range r.until {
		if now >= until {
			delete(r.until, id)
		}
	}
}

// save replaces the file atomically (write a temporary file, then rename)
// so that a crash never leaves half a list.
func (r *Revocations) save() error {
	if r.path == "" {
		return nil
	}
	data, err := json.Marshal(revocationFile{Revoked: r.until})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), ".revoked-*.tmp")
	if err != nil {
		return fmt.Errorf("session: saving the revocation list: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("session: saving the revocation list: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("session: saving the revocation list: %w", err)
	}
	if err := os.Rename(tmp.Name(), r.path); err != nil {
		return fmt.Errorf("session: saving the revocation list: %w", err)
	}
	return nil
}
