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
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

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
}

// Hub is the set of live sessions. It is safe for concurrent use.
type Hub struct {
	o      Options
	log    *slog.Logger
	total  atomic.Int64 // connections attached, across sessions
	mu     sync.Mutex   // guards sessions and closed
	closed bool
	// sessions holds each live session by id.
	sessions map[string]*entry
}

// New returns a Hub.
func New(o Options) *Hub {
	if o.Mint == nil {
		panic("hub: Options.Mint is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lead <= 0 {
		o.Lead = renew.DefaultLead
	}
	if o.Jitter == nil {
		o.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max + 1)
		}
	}
	if o.Revoked == nil {
		o.Revoked = func(string) bool { return false }
	}
	if o.Check == nil {
		o.Check = func(session.Session) error { return nil }
	}
	if o.MaxConnsPerSession <= 0 {
		o.MaxConnsPerSession = DefaultMaxConnsPerSession
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.SendBuffer <= 0 {
		o.SendBuffer = DefaultSendBuffer
	}
	if o.PongWait <= 0 {
		o.PongWait = pongWait
	}
	if o.CoalesceWindow == 0 {
		o.CoalesceWindow = DefaultCoalesceWindow
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{o: o, log: log, sessions: make(map[string]*entry)}
}

// Limits returns the connection limits in effect: per session and in total.
func (h *Hub) Limits() (perSession, total int) { return h.o.MaxConnsPerSession, h.o.MaxConns }

// entry is one live session.
type entry struct {
	h    *Hub
	sess session.Session

	// renewMu serialises minting for the session: one mint at a time, and
	// requests that waited on it take its result.
	renewMu sync.Mutex

	mu sync.Mutex // guards everything below
	// gone is set when the entry left the hub; revoked says it was ended
	// (not merely forgotten while idle).
	gone, revoked bool
	hasTok        bool
	tok           mint.Minted
	exp           time.Time // tok's exp
	mintedAt      time.Time // when the hub learnt of tok
	gen           uint64    // counts tokens; a change means a mint happened
	lead          time.Duration
	warnAt        time.Time // exp − lead (jitter included)
	warned        bool      // "expiring" sent for tok
	expiredSent   bool      // "expired" sent for tok
	clients       map[*Client]struct{}
	timer         *time.Timer
}

// entryFor returns the live entry of s, creating it when the session is
// new to the hub (after sign-in, or after a restart).
func (h *Hub) entryFor(s session.Session) (*entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
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
	e.mu.Lock()
	e.schedule(h.o.Now())
	e.mu.Unlock()
	return e, nil
}

// Issued records the token minted at sign-in for a new session (and tells
// any connection the session already has).
func (h *Hub) Issued(s session.Session, m mint.Minted) error {
	e, err := h.entryFor(s)
	if err != nil {
		return err
	}
	e.renewMu.Lock()
	defer e.renewMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return ErrSessionGone
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
func (h *Hub) renew(ctx context.Context, s session.Session, from *Client, id string) (mint.Minted, error) {
	for {
		e, err := h.entryFor(s)
		if err != nil {
			return mint.Minted{}, err
		}
		m, err := e.renew(ctx, from, id)
		if errors.Is(err, errForgotten) {
			continue // the idle entry was dropped meanwhile: start a new one
		}
		var ce *checkError
		if errors.As(err, &ce) {
			h.endChanged(s.ID, ce.err)
		}
		return m, err
	}
}

// errForgotten says an entry was dropped as idle, not revoked.
var errForgotten = errors.New("hub: session entry forgotten")

func (e *entry) renew(ctx context.Context, from *Client, id string) (mint.Minted, error) {
	h := e.h
	e.mu.Lock()
	arrived := e.gen
	e.mu.Unlock()

	e.renewMu.Lock()
	defer e.renewMu.Unlock()

	// Checked before coalescing too: a session the users file no longer
	// grants gets not even the token already minted.
	if err := h.o.Check(e.sess); err != nil {
		return mint.Minted{}, &checkError{err}
	}

	e.mu.Lock()
	if err := e.goneErr(); err != nil {
		e.mu.Unlock()
		return mint.Minted{}, err
	}
	now := h.o.Now()
	if e.hasTok && (e.gen != arrived || e.fresh(now)) {
		// Coalesced: a token was minted while this request waited, or just
		// before it. The other connections already have it.
		m := e.tok
		if from != nil {
			from.trySend(e.tokenMessage(now, "renewed", id))
		}
		e.mu.Unlock()
		return m, nil
	}
	e.mu.Unlock()

	m, err := h.o.Mint(ctx, e.sess)
	if err != nil {
		return mint.Minted{}, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.goneErr(); err != nil {
		return mint.Minted{}, err
	}
	e.setToken(m, h.o.Now(), "renewed", from, id)
	return m, nil
}

func (e *entry) goneErr() error {
	switch {
	case e.revoked:
		return ErrSessionGone
	case e.gone:
		return errForgotten
	}
	return nil
}

// fresh reports whether the current token is recent enough to hand out
// instead of minting: inside the coalescing window and not yet due for
// renewal. Callers hold e.mu.
func (e *entry) fresh(now time.Time) bool {
	w := e.h.o.CoalesceWindow
	return w > 0 && now.Sub(e.mintedAt) < w && now.Before(e.warnAt)
}

// setToken makes m the session's token, pushes it to every connection
// (the requester, if any, gets it with its id) and reschedules the timer.
// Callers hold e.mu.
func (e *entry) setToken(m mint.Minted, now time.Time, reason string, from *Client, id string) {
	h := e.h
	e.tok, e.hasTok = m, true
	e.gen++
	e.mintedAt = now
	e.exp = time.Unix(m.Claims.Exp, 0)
	ttl := m.Claims.TTL()
	if ttl <= 0 {
		ttl = e.exp.Sub(now)
	}
	lead := renew.Lead(ttl, h.o.Lead)
	e.lead = lead + h.o.Jitter(renew.MaxJitter(lead))
	e.warnAt = e.exp.Add(-e.lead)
	e.warned, e.expiredSent = false, false

	// The push is encoded once, and only when a tab other than the
	// requester needs it: most renewals come over HTTP from a session with
	// no socket, and encoding a token message was a tenth of their cost.
	var push []byte
	for c := range e.clients {
		if c == from {
			c.trySend(e.tokenMessage(now, reason, id))
			continue
		}
		if push == nil {
			push = e.tokenMessage(now, reason, "")
		}
		c.trySend(push)
	}
	e.schedule(now)
}

// schedule arms the session's one timer for its next event: the warning,
// the expiry or the session's end. Callers hold e.mu.
func (e *entry) schedule(now time.Time) {
	if e.gone {
		return
	}
	next := e.sess.Expires
	if e.hasTok && !e.expiredSent && e.exp.Before(next) {
		next = e.exp
	}
	if e.hasTok && !e.warned && e.warnAt.Before(next) {
		next = e.warnAt
	}
	d := max(next.Sub(now), 0)
	if e.timer == nil {
		e.timer = time.AfterFunc(d, e.fire)
	} else {
		e.timer.Reset(d)
	}
}

// fire runs on the session's timer. It works out from the clock which
// event is due, so a stale or early firing does no harm.
func (e *entry) fire() {
	h := e.h
	now := h.o.Now()
	e.mu.Lock()
	if e.gone {
		e.mu.Unlock()
		return
	}
	if !now.Before(e.sess.Expires) {
		e.mu.Unlock()
		h.end(e.sess.ID, "session_expired", protocol.CloseSessionExpired, "the session reached its absolute lifetime: sign in again")
		return
	}
	switch {
	case e.hasTok && !e.expiredSent && !now.Before(e.exp):
		e.expiredSent, e.warned = true, true
		e.broadcast(e.noticeMessage(protocol.TypeExpired, now))
	case e.hasTok && !e.warned && !now.Before(e.warnAt):
		e.warned = true
		e.broadcast(e.noticeMessage(protocol.TypeExpiring, now))
	}
	idle := e.idle()
	if !idle {
		e.schedule(now)
	}
	e.mu.Unlock()
	if idle {
		h.forget(e)
	}
}

// idle reports whether the entry has nothing left to do: no connection to
// tell and no valid token to share. Callers hold e.mu.
func (e *entry) idle() bool { return len(e.clients) == 0 && (!e.hasTok || e.expiredSent) }

// forget drops an idle entry; a later request for its session (the cookie
// is still valid) starts a new one.
func (h *Hub) forget(e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone || !e.idle() || !e.renewMu.TryLock() {
		return // it came back to life, or a renewal is under way
	}
	defer e.renewMu.Unlock()
	e.gone = true
	if e.timer != nil {
		e.timer.Stop()
	}
	if h.sessions[e.sess.ID] == e {
		delete(h.sessions, e.sess.ID)
	}
}

// evictLocked forgets one session without a connection to make room,
// looking at a bounded number of them (map order is random enough to
// spread the choice). Callers hold h.mu.
func (h *Hub) evictLocked() {
	const look = 64
	n := 0
	for id, e := range h.sessions {
		if n++; n > look {
			return
		}
		e.mu.Lock()
		if len(e.clients) > 0 || !e.renewMu.TryLock() {
			e.mu.Unlock()
			continue
		}
		e.gone = true
		if e.timer != nil {
			e.timer.Stop()
		}
		e.renewMu.Unlock()
		e.mu.Unlock()
		delete(h.sessions, id)
		return
	}
}

// broadcast queues msg on every connection. Callers hold e.mu.
func (e *entry) broadcast(msg []byte) {
	for c := range e.clients {
		c.trySend(msg)
	}
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
	e, ok := h.sessions[id]
	if ok {
		delete(h.sessions, id)
	}
	h.mu.Unlock()
	if !ok {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gone, e.revoked = true, true
	if e.timer != nil {
		e.timer.Stop()
	}
	msg := protocol.Encode(protocol.Message{Type: protocol.TypeRevoked, ServerTimeMS: h.o.Now().UnixMilli(), Reason: reason})
	for c := range e.clients {
		c.trySend(msg)
		if _, still := e.clients[c]; still { // not dropped for a full queue
			c.shut(code, text, true)
			h.total.Add(-1)
		}
	}
	clear(e.clients)
	return true
}

// Attach registers a new connection of session s and queues its hello
// (and the current notice, for a tab that joins after a warning).
func (h *Hub) Attach(s session.Session) (*Client, error) {
	if err := h.o.Check(s); err != nil {
		h.endChanged(s.ID, err)
		return nil, &checkError{err}
	}
	if n := h.total.Add(1); n > int64(h.o.MaxConns) {
		h.total.Add(-1)
		return nil, fmt.Errorf("%w: the server has %d connections, its limit: retry later", ErrTooManyConns, h.o.MaxConns)
	}
	for {
		e, err := h.entryFor(s)
		if err != nil {
			h.total.Add(-1)
			return nil, err
		}
		e.mu.Lock()
		if e.gone && !e.revoked {
			e.mu.Unlock()
			continue // forgotten meanwhile: start a new entry
		}
		if err := e.goneErr(); err != nil {
			e.mu.Unlock()
			h.total.Add(-1)
			return nil, err
		}
		if len(e.clients) >= h.o.MaxConnsPerSession {
			e.mu.Unlock()
			h.total.Add(-1)
			return nil, fmt.Errorf("%w: it already has %d connections, the limit: close a tab", ErrTooManyForSession, h.o.MaxConnsPerSession)
		}
		c := newClient(e, h.o.SendBuffer)
		e.clients[c] = struct{}{}
		now := h.o.Now()
		c.trySend(e.helloMessage(now))
		switch {
		case e.hasTok && e.expiredSent:
			c.trySend(e.noticeMessage(protocol.TypeExpired, now))
		case e.hasTok && e.warned:
			c.trySend(e.noticeMessage(protocol.TypeExpiring, now))
		}
		e.mu.Unlock()
		return c, nil
	}
}

// Detach removes a connection that closed.
func (h *Hub) Detach(c *Client) {
	e := c.e
	e.mu.Lock()
	_, ok := e.clients[c]
	if ok {
		delete(e.clients, c)
		h.total.Add(-1)
	}
	idle := ok && !e.gone && e.idle()
	e.mu.Unlock()
	c.shut(1000, "", false)
	if idle {
		h.forget(e)
	}
}

// drop removes a connection whose queue is full. Callers hold c.e.mu.
func (e *entry) drop(c *Client) {
	if _, ok := e.clients[c]; !ok {
		return
	}
	delete(e.clients, c)
	e.h.total.Add(-1)
	e.h.log.Warn("dropped a connection that stopped reading", "session", e.sess.ID)
	c.abort(closeTooSlow, "the connection stopped reading its messages")
}

// Shutdown closes every connection with 1001 going away and stops all
// timers; Attach and Renew fail afterwards.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	h.closed = true
	entries := make([]*entry, 0, len(h.sessions))
	for _, e := range h.sessions {
		entries = append(entries, e)
	}
	clear(h.sessions)
	h.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		e.gone = true
		if e.timer != nil {
			e.timer.Stop()
		}
		for c := range e.clients {
			c.shut(closeGoingAway, "the server is shutting down", false)
			h.total.Add(-1)
		}
		clear(e.clients)
		e.mu.Unlock()
	}
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
	entries := make([]*entry, 0, len(h.sessions))
	for _, e := range h.sessions {
		entries = append(entries, e)
	}
	h.mu.Unlock()
	out := make([]Info, 0, len(entries))
	for _, e := range entries {
		e.mu.Lock()
		in := Info{ID: e.sess.ID, Identity: e.sess.Identity, Connections: len(e.clients),
			SessionExp: e.sess.Expires.UTC(), Created: e.sess.Created.UTC()}
		if e.hasTok {
			in.JTI, in.TokenExp = e.tok.Claims.JTI, e.exp.UTC()
		}
		e.mu.Unlock()
		out = append(out, in)
	}
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
func (h *Hub) Connections() int { return int(h.total.Load()) }

// Messages. Callers hold e.mu.

func (e *entry) helloMessage(now time.Time) []byte {
	m := protocol.Message{Type: protocol.TypeHello, ServerTimeMS: now.UnixMilli(),
		Identity: e.sess.Identity, SessionExpMS: e.sess.Expires.UnixMilli()}
	if e.hasTok {
		m.JTI, m.Exp, m.LeadMS = e.tok.Claims.JTI, e.tok.Claims.Exp, e.lead.Milliseconds()
	}
	return protocol.Encode(m)
}

func (e *entry) noticeMessage(typ string, now time.Time) []byte {
	m := protocol.Message{Type: typ, ServerTimeMS: now.UnixMilli(), JTI: e.tok.Claims.JTI, Exp: e.tok.Claims.Exp}
	if typ == protocol.TypeExpiring {
		m.LeadMS = e.lead.Milliseconds()
	}
	return protocol.Encode(m)
}

func (e *entry) tokenMessage(now time.Time, reason, id string) []byte {
	return protocol.Encode(protocol.Message{Type: protocol.TypeToken, ID: id, ServerTimeMS: now.UnixMilli(),
		Token: e.tok.Token, JTI: e.tok.Claims.JTI, Exp: e.tok.Claims.Exp, Identity: e.tok.Claims.Identity(),
		LeadMS: e.lead.Milliseconds(), Reason: reason})
}
