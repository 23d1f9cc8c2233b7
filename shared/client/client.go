// Package client is the logic of tokenlab's clients, the page and
// `tokenlab watch`: signing in, holding the session's socket, knowing the
// server's clock, and renewing the token before it expires, whatever the
// trigger (the server's push, its own timer, a wake-up, another tab, the
// button). It holds no DOM and no network code: the page and the CLI give
// it a Transport and an Observer, so it runs and is tested on the host and
// under js/wasm alike.
//
// Like the rest of shared/, it links no fmt, encoding/json, reflect or sort:
// they would grow the page's download.
package client

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Transport is how a client reaches its server. Like Observer, it is a
// struct of funcs: an interface would keep time.Time's methods in the
// page's program.
type Transport struct {
	// Post sends body (nil: none) to path on the server and waits for the
	// whole answer. It blocks: the client calls it on a goroutine of its own.
	Post func(path string, body []byte) Response
	// Dial opens the session's socket. message and closed may be called
	// from any goroutine, in the order the events happened; closed is called
	// once, also when the socket could not be opened.
	Dial func(message func(data string), closed func(code int, reason string)) Socket
}

// Socket is one open (or opening) socket.
type Socket interface {
	// Send sends a text frame and reports whether the socket took it.
	Send(text string) bool
	// Close ends the socket without waiting; its closed callback still runs.
	Close(code int, reason string)
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Body   []byte
	// ServerTime is the answer's Date header, zero when it has none.
	ServerTime     time.Time
	Sent, Received time.Time
	// Err says the request never got an answer.
	Err error
}

// Observer is told what happens, on the client's loop goroutine. Its
// funcs must not block; a nil one is not called. It is a struct of funcs,
// not an interface: a page type converted to an interface would make the
// linker keep every method of time.Time in the page's program (~25 KB
// compressed; see renew.Clock).
type Observer struct {
	// Changed says the state moved on: read Snapshot.
	Changed func()
	// Event is one line for a person (the page's timeline), stamped at
	// unixMS.
	Event func(unixMS int64, text string)
	// Note is one event for programs (the page's CustomEvents, watch's
	// lines).
	Note func(n Note)
	// Fail reports an error; field is the request field at fault, if any;
	// signIn says it answers a sign-in.
	Fail func(code, message, field string, signIn bool)
}

// Kind names a Note. The names are the page's "type" of its
// tokenlab:notice events.
type Kind string

// The kinds of Note.
const (
	NoteToken        Kind = "token"        // a token was adopted (sign-in, resume, renewal)
	NoteKept         Kind = "kept"         // the server sent the current token again
	NoteConnected    Kind = "connected"    // the server greeted the socket
	NoteDisconnected Kind = "disconnected" // a greeted socket closed
	NoteReconnecting Kind = "reconnecting" // the socket is dialled again after Retry
	NoteExpiring     Kind = "expiring"     // the server warned
	NoteExpired      Kind = "expired"      // the server says the token expired
	NoteRevoked      Kind = "revoked"      // the server revoked the session
	NoteSignedOut    Kind = "signed_out"   // the client stopped: Reason says why
)

// Note is one event; which fields are set depends on Kind.
type Note struct {
	Kind     Kind
	JTI      string
	Identity string
	Exp      int64 // unix seconds
	// Trigger is what asked for a token (NoteToken): "sign-in", "resumed",
	// "server warning", "page timer", "button", …
	Trigger  string
	Renewals int // NoteToken: tokens adopted since sign-in
	// Reason is the server's reason (NoteRevoked, NoteToken pushed by the
	// server), the close reason (NoteDisconnected, NoteReconnecting), or
	// why the client stopped (NoteSignedOut: "logout", "session_gone",
	// "close_4001", a revocation's reason).
	Reason    string
	Message   string        // NoteSignedOut: for a person
	Code      int           // NoteDisconnected, NoteReconnecting: the close code
	Reconnect bool          // NoteConnected: not the first connection
	Ignored   bool          // NoteExpiring: dropped by SetIgnoreWarnings
	Lead      time.Duration // NoteConnected: the server's warning lead
	Left      time.Duration // NoteExpiring: time left at the server's clock
	Offset    time.Duration // NoteConnected: server clock minus local clock
	Retry     time.Duration // NoteReconnecting: the wait before the dial
	SDK       SDKConn       // NoteSDK: the connection's new state
}

// Config is what a client is built from.
type Config struct {
	Transport Transport
	Observer  Observer
	// Later runs f after what a first token's view needs is on screen (the
	// page waits for its next paint); nil runs f on the loop at once.
	Later func(f func())
	// Now is the local wall clock; nil is time.Now. Tests move it to play
	// a machine that slept.
	Now renew.Clock
	// RenewUnknown renews at once when the server greets the socket
	// without knowing the session's token (it restarted): the server warns
	// only about tokens it knows. Without it, the client's own timer
	// renews at the usual time (the page: fewer renewals after a restart).
	RenewUnknown bool
	// Rand returns numbers in [0, 1) for backoff jitter; nil is
	// math/rand/v2's Float64.
	Rand func() float64
}

// Client is one signed-in (or signing-in) client. Every field below mu is
// owned by the loop goroutine: callers and network goroutines only post
// functions to it.
type Client struct {
	events chan func()
	tr     Transport
	obs    Observer
	later  func(func())
	rnd    func() float64
	clock  *serverClock
	sched  *renew.Scheduler

	// The live token; tok is nil when signed out.
	tok       *token.Token
	exp       time.Time
	lead      time.Duration // warning lead for tok, the server's when known
	renewals  int           // new tokens adopted since sign-in
	phase     Phase
	signingIn bool   // a sign-in request is in flight
	sessionID string // the server's session, from its token answers

	// Renewal in flight.
	renewing     bool
	renewTrigger string
	renewID      string // id of a renewal asked over the socket
	renewAttempt int    // failed attempts since the last success
	seq          int    // for message ids
	// due: the server said the token expires now ("expiring" or
	// "expired", early when an operator or the lab says so), so a failed
	// renewal is retried with backoff rather than at the usual time.
	due bool

	// The socket.
	ws             Socket
	wsGen          int // bumps on every dial, so stale callbacks are ignored
	wsDialed       time.Time
	connected      bool // hello received on the current socket
	everConnected  bool
	reconnectTry   int
	reconnectTimer *time.Timer
	pings          map[string]time.Time

	// ignoreWarnings is a test hook: drop the server's "expiring" pushes to
	// show that the client's own timer renews by itself.
	ignoreWarnings bool
	renewUnknown   bool

	// sdk are the identity's Twilio SDK connections, as the server told.
	sdk []SDKConn

	snapMu sync.Mutex
	snap   Snapshot
}

// New builds a client; Run starts it.
func New(cfg Config) *Client {
	c := &Client{
		events:       make(chan func(), 256),
		tr:           cfg.Transport,
		obs:          cfg.Observer,
		later:        cfg.Later,
		rnd:          cfg.Rand,
		renewUnknown: cfg.RenewUnknown,
		clock:        &serverClock{wall: cfg.Now},
		pings:        map[string]time.Time{},
	}
	if c.later == nil {
		c.later = c.Post
	}
	if c.clock.wall == nil {
		c.clock.wall = time.Now
	}
	if c.rnd == nil {
		c.rnd = rand.Float64
	}
	c.sched = renew.NewScheduler(c.clock.now, 0)
	c.publish()
	return c
}

// Post runs f on the loop. It never blocks the caller, which may be a
// browser callback.
func (c *Client) Post(f func()) {
	select {
	case c.events <- f:
	default:
		go func() { c.events <- f }()
	}
}

// Run is the loop: one goroutine applies every event in order, until stop
// is closed (nil: never). It takes a channel, not a context: package
// context would add to the page's download.
func (c *Client) Run(stop <-chan struct{}) {
	defer c.stop()
	for {
		select {
		case f := <-c.events:
			c.safely(f)
		case <-c.sched.C:
			c.safely(c.fallbackDue)
		case <-stop:
			return
		}
	}
}

// stop releases what a finished loop holds: the socket, the timers.
func (c *Client) stop() {
	c.stopSocket()
	c.sched.Close()
}

// safely runs f, turning a panic into a reported error: a bug in one
// handler must not stop the client (and its renewals) for good.
func (c *Client) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			msg := "internal error"
			if err, ok := r.(error); ok {
				msg += ": " + err.Error()
			} else if s, ok := r.(string); ok {
				msg += ": " + s
			}
			c.fail("internal", "the page hit a bug ("+msg+"); it keeps running", "")
		}
	}()
	f()
}

func (c *Client) nextID(prefix string) string {
	c.seq++
	return prefix + strconv.Itoa(c.seq)
}

func (c *Client) event(text string) { c.eventAt(time.Now().UnixMilli(), text) }

func (c *Client) eventAt(unixMS int64, text string) {
	if c.obs.Event != nil {
		c.obs.Event(unixMS, text)
	}
}

func (c *Client) note(n Note) {
	if c.obs.Note != nil {
		c.obs.Note(n)
	}
}

// eventLater adds a line stamped now, once Later runs: a first view does
// not need it.
func (c *Client) eventLater(text string) {
	at := time.Now().UnixMilli()
	c.later(func() { c.eventAt(at, text) })
}

// fail reports an error.
func (c *Client) fail(code, message, field string) { c.failed(code, message, field, false) }

func (c *Client) failed(code, message, field string, signIn bool) {
	if c.obs.Fail != nil {
		c.obs.Fail(code, message, field, signIn)
	}
}

// SetIgnoreWarnings drops the server's "expiring" pushes (on) or takes
// them again, to show the client's own timer renewing alone.
func (c *Client) SetIgnoreWarnings(on bool) { c.Post(func() { c.ignoreWarnings = on }) }

// SetMinDelay makes the client's renewal timer sleep at least d each time,
// as a browser throttles a hidden tab's timers; 0 undoes it.
func (c *Client) SetMinDelay(d time.Duration) { c.sched.SetMinDelay(d) }
