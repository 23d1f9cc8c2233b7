package users

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// DefaultPollInterval is how often a Live file looks for changes.
const DefaultPollInterval = time.Second

// Live is the users file as it is now: it re-reads the file when its
// contents change, so `tokenlab useradd` takes effect without a restart.
// A version that does not load (bad JSON, a bad hash, open permissions, a
// file caught half written or gone) leaves the last good one in force.
//
// Live polls the file's contents rather than watching for events: a poll
// sees an editor's rename, an in-place write and a replaced directory
// alike, with no platform-specific code, and a users file is small.
type Live struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[File]

	mu       sync.Mutex // serialises Reload and guards below
	seen     []byte     // the contents last read, loaded or not
	lastErr  string     // the last refusal logged, so it is logged once
	onChange []func()
}

// Watch loads the users file at path; the result reloads it on Reload or
// while Poll runs. log receives one line per reload or refusal.
func Watch(path string, log *slog.Logger) (*Live, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Live{path: path, log: log}
	l.cur.Store(f)
	l.seen, _ = readBounded(path)
	return l, nil
}

// Current returns the users in force.
func (l *Live) Current() *File { return l.cur.Load() }

// Path returns the file's path.
func (l *Live) Path() string { return l.path }

// Len returns the number of users in force.
func (l *Live) Len() int { return l.Current().Len() }

// Authenticate implements Authenticator with the users in force.
func (l *Live) Authenticate(ctx context.Context, username, password string) (User, error) {
	return l.Current().Authenticate(ctx, username, password)
}

// Check implements Checker with the users in force.
func (l *Live) Check(identity, credential string, g token.Grants) error {
	return l.Current().Check(identity, credential, g)
}

// OnChange registers fn to run after each successful reload (the hub
// re-checks its live sessions then).
func (l *Live) OnChange(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onChange = append(l.onChange, fn)
}

// Poll reloads the file every interval until ctx ends.
func (l *Live) Poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Reload()
		}
	}
}

// Reload reads the file and, when its contents changed and load, puts the
// new users in force and runs the OnChange functions. It reports whether
// the users changed.
func (l *Live) Reload() bool {
	l.mu.Lock()
	data, err := readBounded(l.path)
	if err == nil {
		err = checkMode(l.path) // a chmod changes no contents
	}
	if err == nil && bytes.Equal(data, l.seen) {
		l.lastErr = "" // unchanged since the last load, good or refused
		l.mu.Unlock()
		return false
	}
	var f *File
	if err == nil {
		l.seen = data
		// Load reads the file again: if it changed in between, the next
		// poll sees contents other than seen and loads once more.
		f, err = Load(l.path)
	}
	if err != nil {
		if msg := err.Error(); msg != l.lastErr {
			l.lastErr = msg
			l.log.Error("users file not reloaded: the previous version stays in force", "path", l.path, "err", err)
		}
		l.mu.Unlock()
		return false
	}
	l.lastErr = ""
	l.cur.Store(f)
	fns := l.onChange
	l.mu.Unlock()
	l.log.Info("users file reloaded", "path", l.path, "users", f.Len())
	for _, fn := range fns {
		fn()
	}
	return true
}
