package hub

import (
	"time"

	"github.com/tokenlab/tokenlab/server/expiry"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// entry is one live session: its token, its one timer and its
// connections. Every field is guarded by the hub's mutex.
type entry struct {
	h    *Hub
	sess session.Session

	// gone is set when the entry left the hub; revoked says it was ended
	// (not merely forgotten, or dropped at shutdown).
	gone, revoked bool
	// minting is the mint in flight for the session, if any: requests
	// that arrive meanwhile wait for it and share its token.
	minting  *flight
	hasTok   bool
	tok      mint.Minted
	mintedAt time.Time // when the hub learnt of tok
	// sched times tok's "expiring" and "expired" and holds the session's
	// one timer, which also ends the session at sess.Expires.
	sched   expiry.Schedule
	clients map[*Client]struct{}
}

// flight is one mint; done is closed once m and err are set.
type flight struct {
	done chan struct{}
	m    mint.Minted
	err  error
}

// stop takes the entry out of service: its timer stops, and a mint in
// flight will not install its token.
func (e *entry) stop() {
	e.gone = true
	e.sched.Stop()
}

// fresh reports whether the current token is recent enough to hand out
// instead of minting: inside the coalescing window and not yet due for
// renewal.
func (e *entry) fresh(now time.Time) bool {
	w := e.h.o.CoalesceWindow
	return w > 0 && now.Sub(e.mintedAt) < w && now.Before(e.sched.WarnAt())
}

// idle reports whether the entry has nothing left to do: no connection to
// tell and no valid token to share.
func (e *entry) idle() bool { return len(e.clients) == 0 && (!e.hasTok || e.sched.Expired()) }

// setToken makes m the session's token, pushes it to every connection
// (the requester, if any, gets it with its id) and reschedules the timer.
func (e *entry) setToken(m mint.Minted, now time.Time, reason string, from *Client, id string) {
	h := e.h
	e.tok, e.hasTok = m, true
	e.mintedAt = now
	e.sched.Set(h.rule, m.Claims.TTL(), time.Unix(m.Claims.Exp, 0), now)

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
// the expiry or the session's end.
func (e *entry) schedule(now time.Time) {
	if e.gone {
		return
	}
	next := e.sess.Expires
	if at, ok := e.sched.Next(); ok && at.Before(next) {
		next = at
	}
	e.sched.Arm(now, next, e.fire)
}

// fire runs on the session's timer. It works out from the clock which
// event is due, so a stale or early firing does no harm.
func (e *entry) fire() {
	h := e.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.gone {
		return
	}
	now := h.o.Now()
	if !now.Before(e.sess.Expires) {
		h.endLocked(e, "session_expired", protocol.CloseSessionExpired, "the session reached its absolute lifetime: sign in again")
		return
	}
	switch e.sched.Due(now) {
	case expiry.Expire:
		e.broadcast(e.noticeMessage(protocol.TypeExpired, now))
	case expiry.Warn:
		e.broadcast(e.noticeMessage(protocol.TypeExpiring, now))
	}
	if e.idle() && e.minting == nil {
		h.forgetLocked(e)
		return
	}
	e.schedule(now)
}

// broadcast queues msg on every connection.
func (e *entry) broadcast(msg []byte) {
	for c := range e.clients {
		c.trySend(msg)
	}
}

// Messages.

func (e *entry) helloMessage(now time.Time) []byte {
	m := protocol.Message{Type: protocol.TypeHello, ServerTimeMS: now.UnixMilli(),
		Identity: e.sess.Identity, SessionExpMS: e.sess.Expires.UnixMilli()}
	if e.hasTok {
		m.JTI, m.Exp, m.LeadMS = e.tok.Claims.JTI, e.tok.Claims.Exp, e.sched.Lead().Milliseconds()
	}
	return protocol.Encode(m)
}

func (e *entry) noticeMessage(typ string, now time.Time) []byte {
	m := protocol.Message{Type: typ, ServerTimeMS: now.UnixMilli(), JTI: e.tok.Claims.JTI, Exp: e.tok.Claims.Exp}
	if typ == protocol.TypeExpiring {
		m.LeadMS = e.sched.Lead().Milliseconds()
	}
	return protocol.Encode(m)
}

func (e *entry) tokenMessage(now time.Time, reason, id string) []byte {
	return protocol.Encode(protocol.Message{Type: protocol.TypeToken, ID: id, ServerTimeMS: now.UnixMilli(),
		Token: e.tok.Token, JTI: e.tok.Claims.JTI, Exp: e.tok.Claims.Exp, Identity: e.tok.Claims.Identity(),
		LeadMS: e.sched.Lead().Milliseconds(), Reason: reason})
}
