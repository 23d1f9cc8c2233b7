package session

import (
	"bufio"
	"bytes"
	"container/heap"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RevocationsFile is the revocation log's name inside a state directory.
const RevocationsFile = "revoked-sessions.jsonl"

// legacyRevocationsFile is the single JSON object ({"revoked":{id:unix}})
// that earlier versions rewrote on every logout. It is imported into the
// log once and then removed.
const legacyRevocationsFile = "revoked-sessions.json"

// MaxRevocations is the default bound on the list's entries (about 100 MB
// of memory). At the bound the list still takes every revocation (dropping
// one would silently un-revoke a session) but Manager.Start refuses new
// sessions with ErrRevocationsFull until entries expire, so the list can
// pass the bound only by the logouts of sessions started before it was
// reached.
const MaxRevocations = 1 << 20

// compactMin is the log's size in lines below which it is never compacted.
const compactMin = 1024

// compactPattern names a compaction's temporary file (os.CreateTemp).
const compactPattern = ".revoked-*.tmp"

// maxLineBytes bounds a line of the log; real ones are about 60 bytes.
const maxLineBytes = 4096

// pruneBatch bounds the expired entries one Add drops, so that a burst of
// expiries never holds the lock for long; Adds outnumber what they prune.
const pruneBatch = 256

// Errors of the revocation list, checked with errors.Is.
var (
	// ErrNotSaved: the revocation is in force in this process, but could
	// not be written to the log, so a restart would forget it.
	ErrNotSaved = errors.New("the session is ended, but its revocation could not be saved to the state directory, so a restart would forget it")
	// ErrRevocationsFull: the list holds MaxRevocations entries.
	ErrRevocationsFull = errors.New("the revocation list is full: new sessions wait until revoked ones reach their expiry")
)

// Revocations is the list of sessions ended before their cookies expire.
// It is checked on every use of a cookie. An entry is dropped once the
// session's absolute expiry has passed, since the cookie is refused anyway
// from then on, so the list never outgrows one session lifetime of logouts.
//
// The list lives in a map, so a check costs the same however long the list
// is. Without a state directory it lives in memory only, and a restart
// forgets it: a revoked cookie that was copied before logout would work
// again until its absolute expiry. With one, every revocation is appended
// to a log (one JSON line, fsynced before Add returns) and a restart reads
// it back. When the log holds more than twice the live entries it is
// rewritten in the background, to a temporary file renamed over it, under
// a lock of its own: checks never wait for the disk.
type Revocations struct {
	now func() time.Time
	max int

	// mu guards the entries; it is held for map and heap work only.
	mu sync.RWMutex
	// until maps a session id to the unix second its cookie expires.
	// Neither keys nor values hold pointers, so the garbage collector
	// never walks the list: a long one costs no more at each collection.
	until map[idKey]int64
	// expiry orders the entries by until, for pruning.
	expiry expiryHeap

	// fileMu guards the log: appends, and the swap that ends a compaction.
	// It is taken before mu when both are needed, never after.
	fileMu     sync.Mutex
	path       string
	f          *os.File
	size       int64 // bytes in the log
	lines      int   // lines in the log
	compacting bool
	compacted  chan struct{} // closed when the running compaction ends
}

// NewRevocations returns an empty in-memory list.
func NewRevocations(now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{now: now, max: MaxRevocations, until: make(map[idKey]int64)}
}

// OpenRevocations returns the list kept in the state directory dir: it
// checks that the process can write there, reads the log (and imports the
// legacy single-object file), and opens the log for appending. A file it
// cannot read exactly, down to an unknown key, is refused: guessing would
// un-revoke sessions.
func OpenRevocations(dir string, now func() time.Time) (*Revocations, error) {
	r := NewRevocations(now)
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	r.path = filepath.Join(dir, RevocationsFile)
	// A compaction cut short by the process's end leaves its temporary
	// file behind; the log itself is whole either way.
	if stale, err := filepath.Glob(filepath.Join(dir, compactPattern)); err == nil {
		for _, name := range stale {
			os.Remove(name)
		}
	}
	entries, lines, size, err := readLogFile(r.path)
	if err != nil {
		return nil, err
	}
	legacyPath := filepath.Join(dir, legacyRevocationsFile)
	legacy, err := readLegacy(legacyPath)
	if err != nil {
		return nil, err
	}
	// A line cut short by a crash was never acknowledged as saved: drop it.
	if err := os.Truncate(r.path, size); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("session: repairing the revocation log %s: %w", r.path, err)
	}
	r.f, err = os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session: opening the revocation log %s for writing: %w", r.path, err)
	}
	r.size, r.lines = size, lines
	for id, until := range entries {
		r.put(id, until)
	}
	for id, until := range legacy {
		r.put(id, until)
		if err := r.append(id, until); err != nil {
			r.f.Close()
			return nil, fmt.Errorf("session: importing %s: %w", legacyPath, err)
		}
	}
	if legacy != nil {
		if err := os.Remove(legacyPath); err != nil {
			r.f.Close()
			return nil, fmt.Errorf("session: removing %s after importing it: %w", legacyPath, err)
		}
	}
	if r.lines > compactMin && r.lines > 2*r.Len() {
		if err := r.compact(); err != nil {
			r.f.Close()
			return nil, err
		}
	}
	return r, nil
}

// checkWritable creates and removes a file in dir, so that a directory the
// process cannot write is refused at start rather than at the first logout.
func checkWritable(dir string) error {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return fmt.Errorf("session: the state directory %q must be an existing directory", dir)
	}
	f, err := os.CreateTemp(dir, ".tokenlab-write-check-*")
	if err != nil {
		return fmt.Errorf("session: the state directory %q is not writable by this process: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// logLine is one line of the log. Pointers tell a missing key from a zero.
type logLine struct {
	ID    *string `json:"id"`
	Until *int64  `json:"until"`
}

// readLogFile reads the log at path: the latest expiry of each id, the
// number of complete lines and their length in bytes (a final line without
// its newline is not counted).
func readLogFile(path string) (map[string]int64, int, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("session: reading the revocation log: %w", err)
	}
	defer f.Close()
	return readLog(f, path, -1)
}

// readLog reads at most limit bytes (all when negative) of a log.
func readLog(src io.Reader, path string, limit int64) (map[string]int64, int, int64, error) {
	if limit >= 0 {
		src = io.LimitReader(src, limit)
	}
	entries := make(map[string]int64)
	br := bufio.NewReaderSize(src, maxLineBytes)
	var lines int
	var size int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			return entries, lines, size, nil // a partial last line is dropped
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, 0, 0, fmt.Errorf("session: the revocation log %s, line %d: longer than %d bytes (fix the line; deleting the file un-revokes every session in it)", path, lines+1, maxLineBytes)
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("session: reading the revocation log: %w", err)
		}
		lines++
		size += int64(len(line))
		id, until, err := decodeLine(line)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("session: the revocation log %s, line %d: %v (fix the line; deleting the file un-revokes every session in it)", path, lines, err)
		}
		if until > entries[id] {
			entries[id] = until
		}
	}
}

// decodeLine reads one {"id":"…","until":unix} line, strictly.
func decodeLine(line []byte) (string, int64, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var l logLine
	err := dec.Decode(&l)
	if err == nil && dec.More() {
		err = errors.New("data after the object")
	}
	if err != nil || l.ID == nil || *l.ID == "" || l.Until == nil {
		return "", 0, fmt.Errorf(`want {"id":"SESSION ID","until":UNIX SECONDS}, got %.80q`, bytes.TrimSpace(line))
	}
	return *l.ID, *l.Until, nil
}

// readLegacy reads the legacy file, strictly: a missing file is nil, and
// anything but {"revoked":{…}} is an error.
func readLegacy(path string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: reading the revocation list: %w", err)
	}
	var f struct {
		Revoked *map[string]int64 `json:"revoked"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(&f)
	if err == nil && dec.More() {
		err = errors.New("data after the object")
	}
	if err == nil && (f.Revoked == nil || *f.Revoked == nil) {
		err = errors.New(`no "revoked" object`)
	}
	if err != nil {
		return nil, fmt.Errorf(`session: the revocation list %s is not {"revoked":{"SESSION ID":UNIX SECONDS,…}}: %v (fix or delete it; deleting it un-revokes every session in it)`, path, err)
	}
	return *f.Revoked, nil
}

// Add revokes the session id until its absolute expiry. The revocation is
// in force when Add returns, even when writing it to the log failed: then
// the error wraps ErrNotSaved.
func (r *Revocations) Add(id string, until time.Time) error {
	u := until.Unix()
	r.mu.Lock()
	r.pruneLocked(pruneBatch)
	added := r.put(id, u)
	r.mu.Unlock()
	if !added || r.path == "" {
		return nil
	}
	return r.append(id, u)
}

// put records id until u unless it is already there for as long; the
// caller holds mu (or owns r alone).
func (r *Revocations) put(id string, u int64) bool {
	k := keyOf(id)
	if old, ok := r.until[k]; ok && old >= u {
		return false
	}
	if u <= r.now().Unix() {
		return false // the cookie has expired anyway
	}
	r.until[k] = u
	heap.Push(&r.expiry, expiryEntry{until: u, id: k})
	return true
}

// append writes one line to the log and syncs it; it starts a compaction
// when the log has grown to more than twice the live entries.
func (r *Revocations) append(id string, u int64) error {
	line, err := json.Marshal(logLine{ID: &id, Until: &u})
	if err != nil {
		return err
	}
	line = append(line, '\n')
	r.fileMu.Lock()
	_, err = r.f.Write(line)
	if err == nil {
		err = r.f.Sync()
	}
	if err != nil {
		// Cut a partly written line, so that later lines stay readable.
		r.f.Truncate(r.size)
		r.fileMu.Unlock()
		return fmt.Errorf("%w: %s: %v", ErrNotSaved, r.path, err)
	}
	r.size += int64(len(line))
	r.lines++
	start := !r.compacting && r.lines > compactMin && r.lines > 2*r.Len()
	if start {
		r.compacting = true
		r.compacted = make(chan struct{})
	}
	r.fileMu.Unlock()
	if start {
		go r.compactAndSignal()
	}
	return nil
}

// Has reports whether id is revoked.
func (r *Revocations) Has(id string) bool {
	k := keyOf(id)
	r.mu.RLock()
	until, ok := r.until[k]
	r.mu.RUnlock()
	return ok && r.now().Unix() < until
}

// Len is the number of entries, expired ones included until pruned.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.until)
}

// Full reports whether the list has reached its bound, after dropping a
// batch of expired entries.
func (r *Revocations) Full() bool {
	r.mu.RLock()
	below := len(r.until) < r.max
	r.mu.RUnlock()
	if below {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(pruneBatch)
	return len(r.until) >= r.max
}

// SetMax changes the bound (MaxRevocations by default).
func (r *Revocations) SetMax(n int) {
	r.mu.Lock()
	r.max = n
	r.mu.Unlock()
}

// pruneLocked drops up to n expired entries; the caller holds mu.
func (r *Revocations) pruneLocked(n int) {
	now := r.now().Unix()
	for ; n > 0 && len(r.expiry) > 0 && r.expiry[0].until <= now; n-- {
		e := heap.Pop(&r.expiry).(expiryEntry)
		if r.until[e.id] == e.until { // not revoked again for longer since
			delete(r.until, e.id)
		}
	}
}

// Compact rewrites the log with the live entries only and waits for any
// compaction already running. Appends carry on meanwhile.
func (r *Revocations) Compact() error {
	if r.path == "" {
		return nil
	}
	r.fileMu.Lock()
	if r.compacting {
		done := r.compacted
		r.fileMu.Unlock()
		<-done
		return nil
	}
	r.compacting = true
	r.compacted = make(chan struct{})
	r.fileMu.Unlock()
	return r.compactAndSignal()
}

func (r *Revocations) compactAndSignal() error {
	err := r.compact()
	r.fileMu.Lock()
	r.compacting = false
	close(r.compacted)
	r.fileMu.Unlock()
	return err
}

// compact rewrites the log in two steps: the lines written so far are
// read and their live entries written to a temporary file without any
// lock; then, under fileMu, the lines appended meanwhile are copied over
// and the file renamed over the log. mu, which checks need, is never held.
func (r *Revocations) compact() error {
	r.fileMu.Lock()
	head := r.size
	r.fileMu.Unlock()

	src, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("session: compacting the revocation log: %w", err)
	}
	defer src.Close()
	entries, _, _, err := readLog(src, r.path, head)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), compactPattern)
	if err != nil {
		return fmt.Errorf("session: compacting the revocation log: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	w := bufio.NewWriter(tmp)
	now := r.now().Unix()
	var lines int
	var size int64
	for id, until := range entries {
		if until <= now {
			continue
		}
		line, _ := json.Marshal(logLine{ID: &id, Until: &until})
		n, _ := w.Write(append(line, '\n'))
		lines++
		size += int64(n)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("session: compacting the revocation log: %w", err)
	}

	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	tail, err := io.ReadAll(io.NewSectionReader(src, head, r.size-head))
	if err == nil {
		_, err = tmp.Write(tail)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), r.path)
	}
	if err != nil {
		return fmt.Errorf("session: compacting the revocation log: %w", err)
	}
	syncDir(filepath.Dir(r.path))
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("session: reopening the revocation log: %w", err)
	}
	r.f.Close()
	r.f = f
	r.size = size + int64(len(tail))
	r.lines = lines + bytes.Count(tail, []byte{'\n'})
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Close waits for a running compaction and closes the log.
func (r *Revocations) Close() error {
	if r.path == "" {
		return nil
	}
	r.fileMu.Lock()
	done := r.compacted
	r.fileMu.Unlock()
	if done != nil {
		<-done
	}
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	return r.f.Close()
}

// idKey is a session id as the list keeps it: the id itself, or for an
// id longer than the key (never one this server makes: they are 26
// characters) its SHA-256.
type idKey [32]byte

func keyOf(id string) idKey {
	if len(id) > len(idKey{}) {
		return sha256.Sum256([]byte(id))
	}
	var k idKey
	copy(k[:], id)
	return k
}

// expiryEntry is one entry of the heap that orders the list by expiry.
type expiryEntry struct {
	until int64
	id    idKey
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
