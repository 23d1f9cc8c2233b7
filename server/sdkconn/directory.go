package sdkconn

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// Bounds of what the directory remembers of connections that ended, so
// that a refusal or an expiry still shows after the socket closed.
const (
	// MaxEnded is how many ended connections are kept, across identities.
	MaxEnded = 64
	// EndedLinger is how long an ended connection is kept.
	EndedLinger = 10 * time.Minute
	// MaxReplay is how many of an identity's connections a new tab is told
	// of: the most recent, within what its queue keeps free for them.
	MaxReplay = 8
)

// Status is one SDK connection as operators (GET /admin/sessions) and the
// page of a session of the same identity see it.
type Status struct {
	ID       string    `json:"id"`
	Product  string    `json:"product"` // conversations, sync, voice (or both twilsock products, joined by +)
	Identity string    `json:"identity"`
	TokenExp time.Time `json:"token_exp,omitzero"`
	// Event is the last thing that happened (protocol.SDKConnected…);
	// ErrorCode is Twilio's, for a refusal.
	Event     string    `json:"event"`
	ErrorCode int       `json:"error_code,omitempty"`
	EventAt   time.Time `json:"event_at"`
	Connected time.Time `json:"connected"`
	// State is protocol.SDKOpen or SDKClosed.
	State string `json:"state"`
}

// Message is s as the "sdk" message the page reads.
func (s Status) Message() protocol.Message {
	m := protocol.Message{Type: protocol.TypeSDK, SDKID: s.ID, Product: s.Product, Identity: s.Identity,
		Event: s.Event, ErrorCode: int64(s.ErrorCode), EventMS: s.EventAt.UnixMilli(), State: s.State}
	if !s.TokenExp.IsZero() {
		m.Exp = s.TokenExp.Unix()
	}
	return m
}

// Directory lists the SDK connections of both endpoints (twilsock and
// Voice) by identity, with their last event, and tells a watcher of every
// change: the hub, which pushes it to the tabs of the identity's sessions.
// A nil *Directory records nothing. It is safe for concurrent use.
//
// Lock order: the directory's lock is held while the watcher and Replay's
// send run, so they may take the hub's lock; the hub never calls the
// directory with its own lock held.
type Directory struct {
	mu  sync.Mutex
	seq int
	// byIdentity holds each identity's connections in a slice, not a map
	// of its own: an identity has a handful at most, often one, and
	// 10,000 identities would each carry a map's overhead.
	byIdentity map[string][]*Status
	ended      []*Status // oldest first
	watch      func(identity string, m protocol.Message)
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{byIdentity: make(map[string][]*Status)}
}

// Watch makes f hear every change, as an "sdk" message for identity's tabs
// (ServerTimeMS left for the sender). Set it once, before connections come.
func (d *Directory) Watch(f func(identity string, m protocol.Message)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.watch = f
}

// open records a connection whose token was accepted.
func (d *Directory) open(product, identity string, exp time.Time) *Status {
	if d == nil {
		return nil
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &Status{Product: product, Identity: identity, TokenExp: exp,
		Event: protocol.SDKConnected, EventAt: now, Connected: now, State: protocol.SDKOpen}
	d.addLocked(s)
	d.changedLocked(s)
	return s
}

// refused records a connection refused at its first token, for an
// identity that token proves (a valid signature): the app's refusal shows
// in the page too. It is listed as closed at once.
func (d *Directory) refused(product, identity string, code int) {
	if d == nil || identity == "" {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &Status{Product: product, Identity: identity, Event: protocol.SDKRefused, ErrorCode: code,
		EventAt: now, Connected: now, State: protocol.SDKClosed}
	d.addLocked(s)
	d.endedLocked(s, now)
	d.changedLocked(s)
}

// addLocked gives s an id and lists it. Callers hold d.mu.
func (d *Directory) addLocked(s *Status) {
	d.seq++
	s.ID = "S" + strconv.Itoa(d.seq)
	d.byIdentity[s.Identity] = append(d.byIdentity[s.Identity], s)
}

// set records event on s (a new exp when not zero).
func (d *Directory) set(s *Status, event string, code int, exp time.Time) {
	if d == nil || s == nil {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.State == protocol.SDKClosed {
		return
	}
	s.Event, s.ErrorCode, s.EventAt = event, code, now
	if !exp.IsZero() {
		s.TokenExp = exp
	}
	d.changedLocked(s)
}

// close records that s's connection ended. An expiry or a refusal stays
// its last event: it is why the connection closed.
func (d *Directory) close(s *Status) {
	if d == nil || s == nil {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.State == protocol.SDKClosed {
		return
	}
	s.State = protocol.SDKClosed
	if s.Event != protocol.SDKExpired && s.Event != protocol.SDKRefused {
		s.Event, s.ErrorCode = protocol.SDKEnded, 0
	}
	s.EventAt = now
	d.endedLocked(s, now)
	d.changedLocked(s)
}

// endedLocked queues s, which closed, to be forgotten. Callers hold d.mu.
func (d *Directory) endedLocked(s *Status, now time.Time) {
	d.ended = append(d.ended, s)
	d.pruneLocked(now)
}

// pruneLocked forgets the ended connections past MaxEnded or older than
// EndedLinger. Callers hold d.mu.
func (d *Directory) pruneLocked(now time.Time) {
	n := 0
	for n < len(d.ended) && (len(d.ended)-n > MaxEnded || now.Sub(d.ended[n].EventAt) > EndedLinger) {
		s := d.ended[n]
		if same := slices.DeleteFunc(d.byIdentity[s.Identity], func(o *Status) bool { return o == s }); len(same) > 0 {
			d.byIdentity[s.Identity] = same
		} else {
			delete(d.byIdentity, s.Identity)
		}
		d.ended[n] = nil
		n++
	}
	d.ended = d.ended[n:]
}

func (d *Directory) changedLocked(s *Status) {
	if d.watch != nil {
		d.watch(s.Identity, s.Message())
	}
}

// All lists the connections, open and recently ended, by identity and
// then by when they connected.
func (d *Directory) All() []Status {
	if d == nil {
		return []Status{}
	}
	d.mu.Lock()
	d.pruneLocked(time.Now())
	out := make([]Status, 0, len(d.ended))
	for _, same := range d.byIdentity {
		for _, s := range same {
			out = append(out, *s)
		}
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Identity, b.Identity), a.Connected.Compare(b.Connected), cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Replay sends the MaxReplay most recently changed connections of
// identity, oldest first, as "sdk" messages: what a new tab of a session
// of that identity is told.
func (d *Directory) Replay(identity string, send func(protocol.Message)) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pruneLocked(time.Now())
	list := slices.Clone(d.byIdentity[identity])
	slices.SortFunc(list, func(a, b *Status) int {
		return cmp.Or(a.EventAt.Compare(b.EventAt), cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	if len(list) > MaxReplay {
		list = list[len(list)-MaxReplay:]
	}
	for _, s := range list {
		send(s.Message())
	}
}
