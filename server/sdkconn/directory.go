package sdkconn

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
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
	// MaxEndedPerIdentity is how many of the ended connections kept are
	// one identity's, so that one identity's churn (refused connects sent
	// as fast as it can) cannot push every other identity's out.
	MaxEndedPerIdentity = MaxReplay
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

// record is what the directory keeps of one connection: small, since every
// open connection has one (a Status is three times its size). Names are
// indexes into productNames and eventNames; times are unix milliseconds.
type record struct {
	identity       string
	exp, at, since int64 // token expiry (0: none), last event, connect
	seq            uint32
	errorCode      int32
	product, event uint8
	closed         bool
}

// The names a record's product and event index; both lists are fixed, so
// records read them without a lock.
var (
	productNames = []string{"twilsock", ProductSync, ProductConversations, ProductSync + "+" + ProductConversations, ProductVoice}
	eventNames   = []string{protocol.SDKConnected, protocol.SDKWarned, protocol.SDKUpdated, protocol.SDKRefused, protocol.SDKExpired, protocol.SDKEnded}
)

// index returns name's index in names; 0 when it is not there (for a
// product: "twilsock", the endpoint's name).
func index(names []string, name string) uint8 {
	return uint8(max(slices.Index(names, name), 0))
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// statusLocked is r as operators see it. Callers hold the directory's
// lock, which guards r.
func statusLocked(r *record) Status {
	state := protocol.SDKOpen
	if r.closed {
		state = protocol.SDKClosed
	}
	return Status{ID: "S" + strconv.FormatUint(uint64(r.seq), 10), Product: productNames[r.product], Identity: r.identity,
		TokenExp: fromMS(r.exp), Event: eventNames[r.event], ErrorCode: int(r.errorCode),
		EventAt: fromMS(r.at), Connected: fromMS(r.since), State: state}
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
	seq uint32
	// byIdentity holds each identity's connections in a slice, not a map
	// of its own: an identity has a handful at most, often one, and
	// 10,000 identities would each carry a map's overhead.
	byIdentity map[string][]*record
	ended      []*record // oldest first
	watch      func(identity string, m protocol.Message)
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{byIdentity: make(map[string][]*record)}
}

// Watch makes f hear every change, as an "sdk" message for identity's tabs
// (ServerTimeMS left for the sender). Set it once, before connections come.
func (d *Directory) Watch(f func(identity string, m protocol.Message)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.watch = f
}

// open records a connection whose token was accepted.
func (d *Directory) open(product, identity string, exp time.Time) *record {
	if d == nil {
		return nil
	}
	now := time.Now().UnixMilli()
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &record{identity: identity, exp: ms(exp), at: now, since: now,
		product: index(productNames, product), event: index(eventNames, protocol.SDKConnected)}
	d.addLocked(r)
	d.changedLocked(r)
	return r
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
	r := &record{identity: identity, at: now.UnixMilli(), since: now.UnixMilli(), errorCode: int32(code), closed: true,
		product: index(productNames, product), event: index(eventNames, protocol.SDKRefused)}
	d.addLocked(r)
	d.endedLocked(r, now)
	d.changedLocked(r)
}

// addLocked numbers r and lists it. Callers hold d.mu.
func (d *Directory) addLocked(r *record) {
	d.seq++
	r.seq = d.seq
	d.byIdentity[r.identity] = append(d.byIdentity[r.identity], r)
}

// set records event on r (a new exp when not zero).
func (d *Directory) set(r *record, event string, code int, exp time.Time) {
	if d == nil || r == nil {
		return
	}
	now := time.Now().UnixMilli()
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.closed {
		return
	}
	r.event, r.errorCode, r.at = index(eventNames, event), int32(code), now
	if !exp.IsZero() {
		r.exp = exp.UnixMilli()
	}
	d.changedLocked(r)
}

// close records that r's connection ended. An expiry or a refusal stays
// its last event: it is why the connection closed.
func (d *Directory) close(r *record) {
	if d == nil || r == nil {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if e := eventNames[r.event]; e != protocol.SDKExpired && e != protocol.SDKRefused {
		r.event, r.errorCode = index(eventNames, protocol.SDKEnded), 0
	}
	r.at = now.UnixMilli()
	d.endedLocked(r, now)
	d.changedLocked(r)
}

// endedLocked queues r, which closed, to be forgotten: first of all its
// identity's oldest ended connection, past MaxEndedPerIdentity. Callers
// hold d.mu.
func (d *Directory) endedLocked(r *record, now time.Time) {
	d.ended = append(d.ended, r)
	first, n := -1, 0
	for i, o := range d.ended {
		if o.identity == r.identity {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n > MaxEndedPerIdentity {
		d.forgetLocked(d.ended[first])
		d.ended = slices.Delete(d.ended, first, first+1)
	}
	d.pruneLocked(now)
}

// forgetLocked takes r, which ended, off its identity's list. Callers
// hold d.mu.
func (d *Directory) forgetLocked(r *record) {
	if same := slices.DeleteFunc(d.byIdentity[r.identity], func(o *record) bool { return o == r }); len(same) > 0 {
		d.byIdentity[r.identity] = same
	} else {
		delete(d.byIdentity, r.identity)
	}
}

// pruneLocked forgets the ended connections past MaxEnded or older than
// EndedLinger. Callers hold d.mu.
func (d *Directory) pruneLocked(now time.Time) {
	n := 0
	for n < len(d.ended) && (len(d.ended)-n > MaxEnded || now.Sub(fromMS(d.ended[n].at)) > EndedLinger) {
		d.forgetLocked(d.ended[n])
		d.ended[n] = nil
		n++
	}
	d.ended = d.ended[n:]
}

func (d *Directory) changedLocked(r *record) {
	if d.watch != nil {
		d.watch(r.identity, statusLocked(r).Message())
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
	var order []uint32
	for _, same := range d.byIdentity {
		for _, r := range same {
			out = append(out, statusLocked(r))
			order = append(order, r.seq)
		}
	}
	d.mu.Unlock()
	seq := make(map[string]uint32, len(out))
	for i, s := range out {
		seq[s.ID] = order[i]
	}
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(strings.Compare(a.Identity, b.Identity), a.Connected.Compare(b.Connected), cmp.Compare(seq[a.ID], seq[b.ID]))
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
	slices.SortFunc(list, func(a, b *record) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	if len(list) > MaxReplay {
		list = list[len(list)-MaxReplay:]
	}
	for _, r := range list {
		send(statusLocked(r).Message())
	}
}
