// Package hub tracks live sessions: the WebSocket connections (tabs) of
// each session, the session's current token, and the notices due about it.
// Each session has one timer, not one per connection, that fires the
// "expiring" warning (at the lead before exp, with bounded jitter), the
// "expired" notice and the session's absolute end. Renewals of one session
// are serialised and coalesced so that tabs asking together get one new
// token, and every renewal is pushed to every tab.
//
// The hub never blocks on a connection: messages go into a bounded queue
// per connection, and a connection whose queue is full is dropped.
//
// hub.go is the registry of sessions and the operations on it; entry.go
// is one session (its token, timer and notices); client.go is one
// connection as the hub sees it; messages.go answers what a client sends.
// The gorilla/websocket transport that drains a Client is server/api's
// wsconn.go.
package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/expiry"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// Defaults for Options left at zero.
const (
	// DefaultMaxConnsPerSession bounds the tabs of one session; a page
	// opened in more tabs than this gets close code 4008.
	DefaultMaxConnsPerSession = 8
	// DefaultMaxConns bounds all connections of the server, so that memory
	// stays bounded (about 16 KiB each) whatever clients do.
	DefaultMaxConns = 10_000
	// DefaultMaxSessions bounds the sessions the hub tracks. Every sign-in
	// starts one, and one without a tab is kept until its token expires
	// (up to a day), so without a bound sign-ins alone would grow memory.
	// At the bound a session without a connection is forgotten: its cookie
	// stays valid, and the hub learns it again on its next renewal or tab,
	// as after a restart.
	DefaultMaxSessions = 2 * DefaultMaxConns
	// DefaultSendBuffer is the queue of each connection. Messages are rare
	// (a few per token lifetime), so a full queue means the client stopped
	// reading.
	DefaultSendBuffer = 16
	// DefaultCoalesceWindow: a renewal asked for within this time after the
	// session's last mint gets that token instead of a new one, unless the
	// token is already within its warning lead. It joins tabs that react to
	// the same warning, and bounds minting to one token a second per session.
	DefaultCoalesceWindow = time.Second
)

// Errors returned by Attach and Renew, checked with errors.Is.
var (
	ErrTooManyForSession = errors.New("too many connections for this session")
	ErrTooManyConns      = errors.New("too many connections to this server")
	ErrSessionGone       = errors.New("the session has ended: sign in again")
	ErrShuttingDown      = errors.New("the server is shutting down")
)

// MintFunc mints a new token for a session.
type MintFunc func(ctx context.Context, s session.Session) (mint.Minted, error)

// Options configure a Hub.
type Options struct {
	// Mint mints tokens for renewals. Required.
	Mint MintFunc
	// Now is the clock; time.Now when nil. Timers use the runtime's clock,
	// which testing/synctest fakes along with time.Now.
	Now func() time.Time
	// Lead is the configured warning lead (renew.DefaultLead when zero);
	// renew.Lead scales it down for short tokens.
	Lead time.Duration
	// Jitter returns a random duration in [0, max]; uniform when nil.
	Jitter func(max time.Duration) time.Duration
	// Revoked reports whether a session id was revoked, so a request that
	// raced with a logout cannot bring the session back. Optional.
	Revoked func(id string) bool
	// Check re-checks a session before each mint and in Recheck (the users
	// file may have changed since sign-in); an error ends the session with
	// reason ReasonUsersFile. Optional.
	Check func(session.Session) error
	// Limits; the Default… constants when zero.
	MaxConnsPerSession int
	MaxConns           int
	MaxSessions        int
	SendBuffer         int
	// PongWait is how long a connection may stay silent before it is
	// dropped (pongWait when zero); the server pings at nine tenths of it.
	// Tests shorten it to see a dead peer dropped.
	PongWait time.Duration
	// CoalesceWindow is DefaultCoalesceWindow when zero; negative turns the
	// window off (requests waiting on a mint in flight still share it).
	CoalesceWindow time.Duration
	// Logger receives connection drops; nil discards.
	Logger *slog.Logger
	// SDKReplay sends a new tab the "sdk" messages of its identity's
	// Twilio SDK connections (sdkconn.Directory.Replay); later changes
	// come through SDKChanged. Optional.
	SDKReplay func(identity string, send func(protocol.Message))
}

// Hub is the set of live sessions. It is safe for concurrent use.
//
// One mutex, mu, guards the registry and the state of every entry and
// every entry's connections: each critical section is short (no minting,
// no network write, no waiting), so a reader can check the hub without
// tracing retries. Minting runs outside it, one at a time per session
// (entry.minting).
type Hub struct {
	o    Options
	log  *slog.Logger
	rule expiry.Rule // when each session's notices are due

	mu       sync.Mutex
	closed   bool
	total    int               // connections attached, across sessions
	sessions map[string]*entry // each live session by id
	// byIdentity indexes sessions by identity, for the pushes about the
	// identity's SDK connections.
	byIdentity map[string]map[*entry]struct{}

	lab lab // the faults ordered for sessions (lab.go)
}

// New returns a Hub.
func New(o Options) *Hub {
	if o.Mint == nil {
		panic("hub: Options.Mint is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Revoked == nil {
		o.Revoked = func(string) bool { return false }
	}
	if o.Check == nil {
		o.Check = func(session.Session) error { return nil }
	}
	if o.Jitter == nil {
		o.Jitter = expiry.UniformJitter
	}
	o.Lead = cmp.Or(o.Lead, renew.DefaultLead)
	o.MaxConnsPerSession = cmp.Or(o.MaxConnsPerSession, DefaultMaxConnsPerSession)
	o.MaxConns = cmp.Or(o.MaxConns, DefaultMaxConns)
	o.MaxSessions = cmp.Or(o.MaxSessions, DefaultMaxSessions)
	o.SendBuffer = cmp.Or(o.SendBuffer, DefaultSendBuffer)
	o.PongWait = cmp.Or(o.PongWait, pongWait)
	o.CoalesceWindow = cmp.Or(o.CoalesceWindow, DefaultCoalesceWindow)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{o: o, log: log, sessions: make(map[string]*entry),
		byIdentity: make(map[string]map[*entry]struct{}), rule: expiry.Rule{Lead: o.Lead, Jitter: o.Jitter}}
}

// Limits returns the connection limits in effect: per session and in total.
func (h *Hub) Limits() (perSession, total int) { return h.o.MaxConnsPerSession, h.o.MaxConns }

// entryLocked returns the live entry of s, creating it when the session
// is new to the hub (after sign-in, or after a restart). Callers hold h.mu.
func (h *Hub) entryLocked(s session.Session) (*entry, error) {
	if h.closed {
		return nil, ErrShuttingDown
	}
	if e, ok := h.sessions[s.ID]; ok {
		return e, nil
	}
	if h.o.Revoked(s.ID) {
		return nil, ErrSessionGone
	}
	if len(h.sessions) >= h.o.MaxSessions {
		h.evictLocked()
	}
	e := &entry{h: h, sess: s, clients: make(map[*Client]struct{})}
	h.sessions[s.ID] = e
	same := h.byIdentity[s.Identity]
	if same == nil {
		same = make(map[*entry]struct{})
		h.byIdentity[s.Identity] = same
	}
	same[e] = struct{}{}
	e.schedule(h.o.Now())
	return e, nil
}

// evictLocked forgets one session without a connection or a mint in
// flight to make room, looking at a bounded number of them (map order is
// random enough to spread the choice). Callers hold h.mu.
func (h *Hub) evictLocked() {
	const look = 64
	n := 0
	for _, e := range h.sessions {
		if n++; n > look {
			return
		}
		if len(e.clients) == 0 && e.minting == nil {
			h.forgetLocked(e)
			return
		}
	}
}

// forgetLocked drops an entry that has no connection and no mint in
// flight; a later request for its session (the cookie is still valid)
// starts a new one. Callers hold h.mu.
func (h *Hub) forgetLocked(e *entry) {
	e.stop()
	h.removeLocked(e)
}

// removeLocked takes e out of the registry. Callers hold h.mu.
func (h *Hub) removeLocked(e *entry) {
	delete(h.sessions, e.sess.ID)
	if same := h.byIdentity[e.sess.Identity]; same != nil {
		delete(same, e)
		if len(same) == 0 {
			delete(h.byIdentity, e.sess.Identity)
		}
	}
}

// Issued records the token minted at sign-in for a new session (and tells
// any connection the session already has).
func (h *Hub) Issued(s session.Session, m mint.Minted) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.entryLocked(s)
	if err != nil {
		return err
	}
	e.setToken(m, h.o.Now(), "sign_in", nil, "")
	return nil
}

// Renew returns a fresh token for s, minting at most one per session at a
// time, and pushes it to every connection of the session. Renew is the
// HTTP path (POST /token/refresh).
func (h *Hub) Renew(ctx context.Context, s session.Session) (mint.Minted, error) {
	return h.renew(ctx, s, nil, "")
}

// renew implements Renew; a request from a connection (from, with its
// message id) gets the answer carrying its id, and the others the push.
// A request that finds a mint in flight for the session waits for it and
// shares its token; one that finds a token minted within the coalescing
// window takes that token.
func (h *Hub) renew(ctx context.Context, s session.Session, from *Client, id string) (mint.Minted, error) {
	// Checked before coalescing too: a session the users file no longer
	// grants gets not even the token already minted.
	if err := h.o.Check(s); err != nil {
		h.endChanged(s.ID, err)
		return mint.Minted{}, &checkError{err}
	}
	ctx, err := h.beforeMint(ctx, s.ID)
	if err != nil {
		return mint.Minted{}, err
	}
	h.mu.Lock()
	e, err := h.entryLocked(s)
	if err != nil {
		h.mu.Unlock()
		return mint.Minted{}, err
	}
	if f := e.minting; f != nil {
		h.mu.Unlock()
		<-f.done
		if f.err == nil && from != nil {
			h.mu.Lock()
			from.trySend(e.tokenMessage(h.o.Now(), "renewed", id))
			h.mu.Unlock()
		}
		return f.m, f.err
	}
	now := h.o.Now()
	if e.hasTok && e.fresh(now) {
		// Coalesced: the other connections already have this token.
		m := e.tok
		if from != nil {
			from.trySend(e.tokenMessage(now, "renewed", id))
		}
		h.mu.Unlock()
		return m, nil
	}
	f := &flight{done: make(chan struct{})}
	e.minting = f
	h.mu.Unlock()

	f.m, f.err = h.o.Mint(ctx, e.sess)

	h.mu.Lock()
	defer h.mu.Unlock()
	e.minting = nil
	switch {
	case f.err != nil:
	case e.revoked:
		f.err = ErrSessionGone
	case e.gone:
		f.err = ErrShuttingDown // only Shutdown drops an entry with a mint in flight
	default:
		e.setToken(f.m, h.o.Now(), "renewed", from, id)
	}
	if f.err != nil {
		f.m = mint.Minted{}
	}
	close(f.done)
	return f.m, f.err
}

// ReasonUsersFile is the "revoked" reason of a session ended because the
// users file no longer grants it (user removed, password changed, grants
// narrowed).
const ReasonUsersFile = "users_file"

// checkError is a failed Options.Check: the session must end.
type checkError struct{ err error }

func (e *checkError) Error() string { return ErrSessionGone.Error() + ": " + e.err.Error() }

// Unwrap lets the error match ErrSessionGone and the check's own error.
func (e *checkError) Unwrap() []error { return []error{ErrSessionGone, e.err} }

// endChanged ends the session id after a failed check.
func (h *Hub) endChanged(id string, err error) {
	if h.end(id, ReasonUsersFile, protocol.CloseRevoked, "session ended (users file changed): sign in again") {
		h.log.Info("session ended: the users file no longer grants it", "session", id, "err", err)
	}
}

// Recheck runs Options.Check on every live session and ends those it
// refuses: their tabs hear "revoked" at once, not at their next renewal.
// It runs after the users file changed.
func (h *Hub) Recheck() {
	h.mu.Lock()
	sessions := make([]session.Session, 0, len(h.sessions))
	for _, e := range h.sessions {
		sessions = append(sessions, e.sess)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		if err := h.o.Check(s); err != nil {
			h.endChanged(s.ID, err)
		}
	}
}

// Revoke ends the session id: each of its connections gets "revoked" with
// reason ("logout", "operator") and close code 4001. It reports whether
// the hub knew the session.
func (h *Hub) Revoke(id, reason string) bool {
	return h.end(id, reason, protocol.CloseRevoked, "session ended ("+reason+"): sign in again")
}

func (h *Hub) end(id, reason string, code int, text string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.sessions[id]
	if ok {
		h.endLocked(e, reason, code, text)
	}
	return ok
}

// endLocked ends e: its connections get "revoked" and then the close code.
// Callers hold h.mu.
func (h *Hub) endLocked(e *entry, reason string, code int, text string) {
	h.removeLocked(e)
	h.lab.forget(e.sess.ID)
	e.stop()
	e.revoked = true
	msg := protocol.Encode(protocol.Message{Type: protocol.TypeRevoked, ServerTimeMS: h.o.Now().UnixMilli(), Reason: reason})
	for c := range e.clients {
		c.trySend(msg)
		if _, still := e.clients[c]; still { // not dropped for a full queue
			c.shut(code, text, true)
			h.total--
		}
	}
	clear(e.clients)
}

// Attach registers a new connection of session s and queues its hello
// (and the current notice, for a tab that joins after a warning).
func (h *Hub) Attach(s session.Session) (*Client, error) {
	if err := h.o.Check(s); err != nil {
		h.endChanged(s.ID, err)
		return nil, &checkError{err}
	}
	c, err := h.attach(s)
	if err == nil && h.o.SDKReplay != nil {
		// Outside h.mu: the directory calls back into the hub.
		h.o.SDKReplay(s.Identity, func(m protocol.Message) { h.sendSDK(c, m) })
	}
	return c, err
}

func (h *Hub) attach(s session.Session) (*Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total >= h.o.MaxConns {
		return nil, fmt.Errorf("%w: the server has %d connections, its limit: retry later", ErrTooManyConns, h.o.MaxConns)
	}
	e, err := h.entryLocked(s)
	if err != nil {
		return nil, err
	}
	if len(e.clients) >= h.o.MaxConnsPerSession {
		return nil, fmt.Errorf("%w: it already has %d connections, the limit: close a tab", ErrTooManyForSession, h.o.MaxConnsPerSession)
	}
	c := newClient(e, h.o.SendBuffer)
	e.clients[c] = struct{}{}
	h.total++
	now := h.o.Now()
	c.trySend(e.helloMessage(now))
	switch {
	case e.hasTok && e.sched.Expired():
		c.trySend(e.noticeMessage(protocol.TypeExpired, now))
	case e.hasTok && e.sched.Warned():
		c.trySend(e.noticeMessage(protocol.TypeExpiring, now))
	}
	return c, nil
}

// Detach removes a connection that closed.
func (h *Hub) Detach(c *Client) {
	h.mu.Lock()
	e := c.e
	if _, ok := e.clients[c]; ok {
		delete(e.clients, c)
		h.total--
		if !e.gone && e.idle() && e.minting == nil {
			h.forgetLocked(e)
		}
	}
	h.mu.Unlock()
	c.shut(1000, "", false)
}

// dropLocked removes a connection whose queue is full. Callers hold h.mu.
func (h *Hub) dropLocked(c *Client) {
	e := c.e
	if _, ok := e.clients[c]; !ok {
		return
	}
	delete(e.clients, c)
	h.total--
	h.log.Warn("dropped a connection that stopped reading", "session", e.sess.ID)
	c.abort(closeTooSlow, "the connection stopped reading its messages")
}

// Shutdown closes every connection with 1001 going away and stops all
// timers; Attach and Renew fail afterwards.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, e := range h.sessions {
		e.stop()
		for c := range e.clients {
			c.shut(closeGoingAway, "the server is shutting down", false)
		}
		clear(e.clients)
	}
	clear(h.sessions)
	clear(h.byIdentity)
	h.total = 0
}

// Info describes one live session for operators.
type Info struct {
	ID          string    `json:"id"`
	Identity    string    `json:"identity"`
	Connections int       `json:"connections"`
	JTI         string    `json:"jti,omitempty"`
	TokenExp    time.Time `json:"token_exp,omitzero"`
	SessionExp  time.Time `json:"session_exp"`
	Created     time.Time `json:"created"`
}

// Sessions lists the live sessions, oldest first.
func (h *Hub) Sessions() []Info {
	h.mu.Lock()
	out := make([]Info, 0, len(h.sessions))
	for _, e := range h.sessions {
		in := Info{ID: e.sess.ID, Identity: e.sess.Identity, Connections: len(e.clients),
			SessionExp: e.sess.Expires.UTC(), Created: e.sess.Created.UTC()}
		if e.hasTok {
			in.JTI, in.TokenExp = e.tok.Claims.JTI, e.sched.Exp().UTC()
		}
		out = append(out, in)
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Lookup returns the session with id, if the hub tracks it.
func (h *Hub) Lookup(id string) (session.Session, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.sessions[id]
	if !ok {
		return session.Session{}, false
	}
	return e.sess, true
}

// Connections is the number of attached connections.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}
