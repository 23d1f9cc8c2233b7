package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/expiry"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// The lab makes a session's token lifecycle happen on demand, for tests
// and demos: expire now, warn now, fail or delay the next renewals, mint
// with a skewed clock, drop the sockets. Every way in (operator routes,
// the CLI, the page's own routes) calls these methods, and renewals over
// HTTP and over the socket both meet the faults in renew, so they agree.

// Bounds of the lab's faults: a fault is a test's tool, never a way to
// hold a server's resources for long.
const (
	MaxFaultRenewals = 100 // renewals one fail order may cover
	// MaxFaultDelay is the longest a renewal is held: within the HTTP
	// server's write time-out (30 s), so that the answer still goes out.
	MaxFaultDelay = 20 * time.Second
	MaxRetryAfter = 300 * time.Second
	MaxSkew       = 24 * time.Hour // the largest clock error simulated
	// CloseAbrupt asks Drop to cut the connections without a close frame,
	// which the peer sees as 1006 (abnormal closure).
	CloseAbrupt = 1006
)

// FaultStatuses are the statuses a renewal may be failed with.
var FaultStatuses = []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable}

// DropCodes are the close codes Drop accepts: going away, the abrupt cut,
// server errors and restarts, and the session's end (4002).
var DropCodes = []int{1000, 1001, CloseAbrupt, 1011, 1012, 1013, protocol.CloseSessionExpired}

// Errors of the lab's methods, checked with errors.Is.
var (
	ErrNotLive       = errors.New("the session is not live on this server: check the id with GET /admin/sessions (a session shows there while it has a valid token or a connection)")
	ErrNoToken       = errors.New("the session has no token on this server yet (it was forgotten after expiring, or the server restarted): renew first")
	ErrTooManyFaults = errors.New("too many sessions have lab faults set: clear some (skew 0) or let them run out")
)

// Fault is an order to fail or delay the session's next Count renewals:
// each waits Delay, then fails with Status (0: does not fail, mints).
type Fault struct {
	Count      int
	Status     int
	RetryAfter time.Duration // sent with 429 and 503
	Delay      time.Duration
}

// FaultError is a renewal failed on purpose by the lab.
type FaultError struct {
	Status     int
	RetryAfter time.Duration
	Left       int // renewals still to fail after this one
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("lab fault: this renewal fails with %d %s on purpose (%d more to fail): retry with backoff",
		e.Status, http.StatusText(e.Status), e.Left)
}

// faults are the lab's orders for one session.
type faults struct {
	fault Fault // fault.Count renewals left
	skew  time.Duration
}

// lab holds the faults of every session, apart from the hub's mutex so
// that a renewal checks them without touching the registry. Lock order:
// the hub's mu before lab.mu.
type lab struct {
	mu sync.Mutex
	m  map[string]*faults
}

// set changes the faults of id with f, keeping at most max sessions' worth.
func (l *lab) set(id string, max int, f func(*faults)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs, ok := l.m[id]
	if !ok {
		if len(l.m) >= max {
			return ErrTooManyFaults
		}
		if l.m == nil {
			l.m = make(map[string]*faults)
		}
		fs = &faults{}
		l.m[id] = fs
	}
	f(fs)
	l.tidy(id, fs)
	return nil
}

// tidy forgets a used-up fail order, so that operators are not shown its
// status as if it were in force, and the session's entry once nothing is
// left. Callers hold l.mu.
func (l *lab) tidy(id string, fs *faults) {
	if fs.fault.Count == 0 {
		fs.fault = Fault{}
	}
	if fs.fault.Count == 0 && fs.skew == 0 {
		delete(l.m, id)
	}
}

// take uses up one faulted renewal of id, if any, and returns it with
// the skew to mint with.
func (l *lab) take(id string) (f Fault, left int, skew time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs, ok := l.m[id]
	if !ok {
		return Fault{}, 0, 0
	}
	if fs.fault.Count > 0 {
		f = fs.fault
		fs.fault.Count--
		left = fs.fault.Count
	}
	skew = fs.skew
	l.tidy(id, fs)
	return f, left, skew
}

// forget drops the faults of a session that ended.
func (l *lab) forget(id string) {
	l.mu.Lock()
	delete(l.m, id)
	l.mu.Unlock()
}

// beforeMint applies the lab's faults to one renewal of session id: it
// waits out a delay, fails on purpose, or returns ctx carrying the skew
// the mint function is to use (MintSkew).
func (h *Hub) beforeMint(ctx context.Context, id string) (context.Context, error) {
	f, left, skew := h.lab.take(id)
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx, ctx.Err()
		}
	}
	if f.Status != 0 {
		return ctx, &FaultError{Status: f.Status, RetryAfter: f.RetryAfter, Left: left}
	}
	if skew != 0 {
		ctx = context.WithValue(ctx, skewKey{}, skew)
	}
	return ctx, nil
}

type skewKey struct{}

// MintSkew is the clock error the hub's mint function must mint with for
// this renewal (the lab's skew): iat, nbf, exp and the jti's time shifted
// by it. Zero when none is set.
func MintSkew(ctx context.Context) time.Duration {
	d, _ := ctx.Value(skewKey{}).(time.Duration)
	return d
}

// liveLocked returns the entry of id; callers hold h.mu.
func (h *Hub) liveLocked(id string) (*entry, error) {
	e, ok := h.sessions[id]
	if !ok || e.gone {
		return nil, ErrNotLive
	}
	return e, nil
}

// Learn makes the hub track session s (as a renewal or a tab would), so
// that a page's own lab actions find it even when the hub had forgotten
// it: after a restart, or once its token expired with no tab open.
func (h *Hub) Learn(s session.Session) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.entryLocked(s)
	return err
}

// ExpireNow treats session id's current token as expired: its tabs get
// "expired" at once, and the next renewal mints (the coalescing window
// no longer hands the token back). It returns the number of tabs told.
func (h *Hub) ExpireNow(id string) (int, error) {
	return h.notifyNow(id, protocol.TypeExpired)
}

// WarnNow sends "expiring" to session id's tabs now, as if its token had
// reached its warning lead; the next renewal mints.
func (h *Hub) WarnNow(id string) (int, error) {
	return h.notifyNow(id, protocol.TypeExpiring)
}

func (h *Hub) notifyNow(id, typ string) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.liveLocked(id)
	if err != nil {
		return 0, err
	}
	if !e.hasTok {
		return 0, ErrNoToken
	}
	now := h.o.Now()
	e.stale(now)
	if typ == protocol.TypeExpired {
		e.sched.Mark(expiry.Expire)
	} else {
		e.sched.Mark(expiry.Warn)
	}
	// The notice says it comes from the lab, so that a page can show the
	// fault's cause.
	m := protocol.Message{Type: typ, ServerTimeMS: now.UnixMilli(), JTI: e.tok.Claims.JTI, Exp: e.tok.Claims.Exp, Reason: ReasonLab}
	if typ == protocol.TypeExpiring {
		m.LeadMS = e.sched.Lead().Milliseconds()
	}
	e.broadcast(protocol.Encode(m))
	e.schedule(now)
	return len(e.clients), nil
}

// ReasonLab is the reason of the "expiring" and "expired" notices the
// lab sends.
const ReasonLab = "lab"

// stale makes the current token one the coalescing window no longer hands
// out, so the next renewal mints. Callers hold h.mu.
func (e *entry) stale(now time.Time) {
	e.mintedAt = time.Time{}
	e.sched.Hasten(now)
}

// FailRenewals makes session id's next f.Count renewals wait f.Delay and
// then fail with f.Status (or mint, when f.Status is 0). A new order
// replaces the one in force; Count 0 clears it.
func (h *Hub) FailRenewals(id string, f Fault) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.liveLocked(id)
	if err != nil {
		return err
	}
	if err := h.lab.set(id, h.o.MaxSessions, func(fs *faults) { fs.fault = f }); err != nil {
		return err
	}
	e.stale(h.o.Now())
	return nil
}

// Skew makes session id's next tokens be minted as by a server whose clock
// is off by d (d > 0: ahead); 0 clears it. The next renewal mints.
func (h *Hub) Skew(id string, d time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.liveLocked(id)
	if err != nil {
		return err
	}
	if err := h.lab.set(id, h.o.MaxSessions, func(fs *faults) { fs.skew = d }); err != nil {
		return err
	}
	e.stale(h.o.Now())
	return nil
}

// Drop closes session id's connections with code (CloseAbrupt: cut
// without a close frame) and keeps the session: its tabs reconnect. It
// returns the number of connections dropped.
func (h *Hub) Drop(id string, code int) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.liveLocked(id)
	if err != nil {
		return 0, err
	}
	n := len(e.clients)
	for c := range e.clients {
		if code == CloseAbrupt {
			c.abort(0, "")
		} else {
			c.shut(code, "dropped by the lab", true)
		}
		h.total--
	}
	clear(e.clients)
	return n, nil
}

// FaultState is what the lab has ordered for a session and not yet used
// up, for operators.
type FaultState struct {
	FailRenewals int   `json:"fail_renewals,omitempty"` // renewals still to fail or delay
	Status       int   `json:"status,omitempty"`        // … with this status (0: delayed, then minted)
	DelayMS      int64 `json:"delay_ms,omitempty"`
	SkewSeconds  int64 `json:"skew_seconds,omitempty"`
}

// Faults lists the lab's orders in force, by session id.
func (h *Hub) Faults() map[string]FaultState {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	out := make(map[string]FaultState, len(h.lab.m))
	for id, fs := range h.lab.m {
		out[id] = FaultState{FailRenewals: fs.fault.Count, Status: fs.fault.Status,
			DelayMS: fs.fault.Delay.Milliseconds(), SkewSeconds: int64(fs.skew / time.Second)}
	}
	return out
}
