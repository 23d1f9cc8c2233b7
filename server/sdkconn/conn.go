// Package sdkconn is tokenlab's twilsock endpoint, GET /v3/wsconnect: the
// path Twilio's Conversations and Sync SDKs connect to, so that a client
// given `twilsock: { uri: "ws://tokenlab-host/v3/wsconnect" }` runs its
// token lifecycle against tokenlab. It verifies the token of init and
// update as Twilio would, sends tokenAboutToExpire at tokenlab's warning
// lead, closes with 410 (tokenExpired) at exp, and answers the SDK's
// upstream requests with "not emulated by tokenlab". docs/twilsock.md
// describes what is emulated.
package sdkconn

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// Connection hygiene, as on /ws (gorilla/websocket's chat example).
const (
	// writeWait is the time allowed to write one frame; a peer that does
	// not take it in time is dropped.
	writeWait = 10 * time.Second
	// pongWait is the silence after which a peer is considered gone; the
	// server pings at pingPeriod.
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	// initWait is how long a new connection may take to send init.
	initWait = 10 * time.Second
	// sendBuffer is each connection's queue. It holds more than
	// MessageBurst, since every client frame may be answered: a burst of
	// answers must not look like a client that stopped reading. A full
	// queue means the client stopped reading: it is dropped, never waited
	// for.
	sendBuffer = 2 * MessageBurst
	// MessageRate and MessageBurst bound the frames one connection may
	// send. Conversations sends a handful of upstream requests and an
	// acknowledgement for each server frame at start-up, so the burst is
	// larger than /ws's.
	MessageRate  = 10
	MessageBurst = 20
	// closeGrace is how long the server waits for the peer's close frame
	// after its own, so the peer reads the close instead of a reset.
	closeGrace = time.Second
)

// Defaults for Options left at zero.
const (
	DefaultMaxConns            = 10_000
	DefaultMaxConnsPerIdentity = 8
)

// Options configure the endpoint.
type Options struct {
	// Minter verifies tokens (tokenlab's own key). Required.
	Minter *mint.Minter
	// Lead is the configured warning lead, scaled by renew.Lead.
	Lead time.Duration
	// Jitter returns a random duration in [0, max]; uniform when nil.
	Jitter func(max time.Duration) time.Duration
	// Limits; the Default… constants when zero.
	MaxConns, MaxConnsPerIdentity int
	// Logger receives connection events; nil discards.
	Logger *slog.Logger
	// Directory lists the connections for operators and pages; nil keeps
	// no list.
	Directory *Directory
}

// Endpoint serves GET /v3/wsconnect. It is safe for concurrent use.
type Endpoint struct {
	o    Options
	log  *slog.Logger
	pool *pool
}

// upgrader keeps per-connection memory small: an SDK's frames are small
// and few (at most MessageRate a second), so a 256-byte read buffer costs
// a second read for an init frame, and saves 0.7 KiB of every idle
// connection (figure 11); writes borrow a pooled buffer.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  256,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
	// The SDK's socket comes from the user's app, another origin. The
	// connection carries no cookie: it is authenticated by the token in
	// its init frame, so a foreign page gains nothing it does not already
	// hold.
	CheckOrigin: func(*http.Request) bool { return true },
}

// New returns the endpoint.
func New(o Options) *Endpoint {
	o, log := o.withDefaults()
	return &Endpoint{o: o, log: log, pool: newPool(o.MaxConns, o.MaxConnsPerIdentity)}
}

// withDefaults fills in the zero fields of o, and returns its logger (one
// that discards when o has none).
func (o Options) withDefaults() (Options, *slog.Logger) {
	if o.Minter == nil {
		panic("sdkconn: Options.Minter is required")
	}
	if o.Lead <= 0 {
		o.Lead = renew.DefaultLead
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerIdentity <= 0 {
		o.MaxConnsPerIdentity = DefaultMaxConnsPerIdentity
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return o, log
}

// Connections returns the number of open twilsock connections.
func (e *Endpoint) Connections() int { return int(e.pool.total.Load()) }

// ServeHTTP upgrades the request and runs the connection.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.pool.serve(w, r, "twilsock",
		"GET /v3/wsconnect is the twilsock WebSocket endpoint: point a Twilio Conversations or Sync client at it with the option twilsock: { uri } (see docs/twilsock.md)",
		func(ws *websocket.Conn) pooled {
			c := &conn{e: e, socket: newSocket(ws, e.log, websocket.BinaryMessage, nil, pingPeriod)}
			c.life = NewLifecycle(e.o.Lead, e.o.Jitter, c)
			return c
		})
}

// writeError answers a plain HTTP request with tokenlab's JSON error body,
// {"error": {"code", "message"}}, as the API's routes do.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// Shutdown closes every connection with 1001 going away, as /ws's are
// closed: the SDK reconnects by itself, to a restarted server too.
func (e *Endpoint) Shutdown() { e.pool.shutdown() }

// conn is one twilsock connection: one read goroutine (readPump, which answers
// each frame before reading the next) and a socket that writes what is
// queued; the lifecycle's timer queues its frames like any other.
type conn struct {
	*socket
	e    *Endpoint
	life *Lifecycle

	mu    sync.Mutex // guards the fields below
	ident string     // set by a successful init
	seq   int
	rec   *record      // the directory's record, from a successful init
	tok   currentToken // the last accepted token
}

// record returns the connection's directory record (nil before init).
func (c *conn) record() *record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

func (c *conn) identity() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ident
}

// nextID returns an id for a server frame.
func (c *conn) nextID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("TL%d", c.seq)
}

// queue sends a frame without waiting; a client whose queue is full is
// dropped.
func (c *conn) queue(h twilsock.Header, body []byte) {
	b, err := twilsock.Encode(h, body)
	if err != nil {
		c.e.log.Error("twilsock: encoding a frame", "method", h.Method, "err", err)
		return
	}
	c.queueBytes(b)
}

// closeWith sends twilsock's own close (status code and description),
// which the SDK acts on, then ends the WebSocket.
func (c *conn) closeWith(code int, status, description string) {
	c.queue(twilsock.Header{Method: twilsock.MethodClose, ID: c.nextID(),
		Status: &twilsock.Status{Code: code, Status: status, Description: description}}, nil)
	c.shut(websocket.CloseNormalClosure, description)
}

func (c *conn) sock() *socket { return c.socket }

func (c *conn) ended() string {
	c.life.Stop()
	return c.identity()
}

func (c *conn) announceEnd() { c.e.o.Directory.close(c.record()) }

// goAway ends the connection when the server shuts down.
func (c *conn) goAway() {
	c.life.Stop()
	c.shut(websocket.CloseGoingAway, "the server is shutting down")
}

// AboutToExpire pushes client_update token_about_to_expire.
func (c *conn) AboutToExpire() {
	c.e.o.Directory.set(c.record(), protocol.SDKWarned, 0, time.Time{})
	c.queue(twilsock.Header{Method: twilsock.MethodClientUpdate, ID: c.nextID(),
		ClientUpdateType: twilsock.ClientUpdateTokenAboutToExpire}, nil)
}

// Expired closes with 410, which the SDK reports as tokenExpired.
func (c *conn) Expired() {
	c.e.o.Directory.set(c.record(), protocol.SDKExpired, 0, time.Time{})
	c.closeWith(twilsock.StatusTokenExpired, "Gone", "the token expired and no new one came: call updateToken with a fresh token")
}

// readPump reads and answers frames until the connection ends.
func (c *conn) readPump() {
	c.ws.SetReadLimit(twilsock.MaxFrameBytes)
	c.ws.SetReadDeadline(time.Now().Add(initWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	limiter := rate.NewLimiter(MessageRate, MessageBurst)
	c.limitPings(limiter, func() {
		c.closeWith(twilsock.StatusTooManyRequest, "Too Many Requests",
			fmt.Sprintf("more than %d frames a second, WebSocket pings included: slow down", MessageRate))
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if c.closing() {
			continue // closing: read until the peer's close arrives
		}
		if !limiter.Allow() {
			c.closeWith(twilsock.StatusTooManyRequest, "Too Many Requests",
				fmt.Sprintf("more than %d frames a second: slow down", MessageRate))
			continue
		}
		// The frame is decoded and answered on a goroutine of its own, one
		// frame at a time: JSON decoding and token verification need a
		// deep stack, which would otherwise stay with every idle
		// connection (measured: about 6 KiB of 25 per connection).
		handled := make(chan struct{})
		go func() {
			defer close(handled)
			f, err := twilsock.Decode(data)
			if err != nil {
				c.closeWith(twilsock.StatusNotAcceptable, "Not Acceptable", err.Error())
				return
			}
			if c.identity() != "" {
				c.ws.SetReadDeadline(time.Now().Add(pongWait))
			}
			c.handle(f)
		}()
		<-handled
	}
}

// handle answers one frame.
func (c *conn) handle(f twilsock.Frame) {
	h := f.Header
	ready := c.identity() != ""
	switch {
	case h.Method == twilsock.MethodReply:
		return // the client's acknowledgement of a server frame
	case h.Method == twilsock.MethodClose:
		c.shut(websocket.CloseNormalClosure, "")
	case h.Method == twilsock.MethodInit && !ready:
		c.init(h)
	case h.Method == twilsock.MethodInit:
		c.reply(h.ID, http.StatusBadRequest, "Bad Request", "init was already sent on this connection")
	case !ready:
		c.closeWith(twilsock.StatusNotAcceptable, "Not Acceptable", fmt.Sprintf("%s before init: send init with the token first", h.Method))
	case h.Method == twilsock.MethodUpdate:
		c.update(h)
	case h.Method == twilsock.MethodMessage:
		c.upstream(h)
	case h.Method == twilsock.MethodPing, h.Method == twilsock.MethodTelemetry:
		c.reply(h.ID, twilsock.StatusOK, "OK", "")
	default: // notification, client_update: the server's methods
		c.reply(h.ID, http.StatusBadRequest, "Bad Request", h.Method+" is sent by the server, not the client")
	}
}

// reply answers the request with id.
func (c *conn) reply(id string, code int, status, description string) {
	r := twilsock.Reply(id, code, status)
	r.Status.Description = description
	c.queue(r, nil)
}

// refuse answers init or update with Twilio's status and error code. The
// status text is upper case, as Twilio's service sends it: twilio-sync
// 4.0.1 turns a refused update into its SyncError 51130 only when the
// reply's status is 401 "UNAUTHORIZED".
func (c *conn) refuse(id string, r *Refusal) {
	h := twilsock.Reply(id, r.Status, strings.ToUpper(http.StatusText(r.Status)))
	h.Status.ErrorCode, h.Status.Description = r.ErrorCode, r.Reason
	c.queue(h, nil)
}

func (c *conn) init(h twilsock.Header) {
	now := time.Now()
	key := keyOf(h.Token)
	a, refusal := verify(c.e.o.Minter, h.Token, now)
	if refusal == nil {
		refusal = c.e.pool.ended.refusal(key, a.Identity, now)
	}
	if refusal != nil {
		// Recorded first, so that whoever reads the reply finds it listed.
		c.e.o.Directory.refused(sdkProduct(h.Metadata, nil), refusal.Identity, refusal.ErrorCode)
		c.refuse(h.ID, refusal)
		c.shut(websocket.CloseNormalClosure, "token refused")
		return
	}
	if !c.e.pool.admit(a.Identity) {
		c.closeWith(twilsock.StatusTooManyRequest, "Too Many Requests",
			fmt.Sprintf("more than %d twilsock connections for identity %q: close some", c.e.o.MaxConnsPerIdentity, a.Identity))
		return
	}
	rec := c.e.o.Directory.open(sdkProduct(h.Metadata, a.Products), a.Identity, a.Exp)
	c.mu.Lock()
	c.ident, c.rec, c.tok = a.Identity, rec, current(key, a)
	c.mu.Unlock()
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	r := twilsock.Reply(h.ID, twilsock.StatusOK, "OK")
	r.Capabilities = []string{"client_update"}
	c.queue(r, nil)
	c.life.SetToken(a.TTL, a.Exp)
	c.e.log.Info("twilsock: connected", "identity", a.Identity, "products", a.Products, "exp", a.Exp)
}

func (c *conn) update(h twilsock.Header) {
	now := time.Now()
	key := keyOf(h.Token)
	a, refusal := verify(c.e.o.Minter, h.Token, now)
	if refusal == nil {
		refusal = c.e.pool.ended.refusal(key, a.Identity, now)
	}
	if refusal == nil && a.Identity != c.identity() {
		refusal = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenInvalid,
			fmt.Sprintf("the new token is for identity %q, this connection is %q: connect again to change identity", a.Identity, c.identity()))
	}
	if refusal != nil {
		c.e.o.Directory.set(c.record(), protocol.SDKRefused, refusal.ErrorCode, time.Time{})
		c.refuse(h.ID, refusal)
		return
	}
	c.mu.Lock()
	c.tok = current(key, a)
	c.mu.Unlock()
	c.life.SetToken(a.TTL, a.Exp)
	c.e.o.Directory.set(c.record(), protocol.SDKUpdated, 0, a.Exp)
	c.reply(h.ID, twilsock.StatusOK, "OK", "")
}

// notEmulated is the body of the answer to an upstream request.
type notEmulated struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// upstream answers an SDK request for a Twilio service: tokenlab emulates
// the connection's token lifecycle, not the services behind it.
func (c *conn) upstream(h twilsock.Header) {
	if body, ok := thinAnswer(h.HTTPRequest, c.identity()); ok {
		r := twilsock.Reply(h.ID, twilsock.StatusOK, "OK")
		r.HTTPStatus = &twilsock.HTTPStatus{Code: http.StatusOK, Status: "OK"}
		r.HTTPHeaders = map[string]string{"Content-Type": "application/json"}
		c.queue(r, body)
		return
	}
	what := "an upstream request"
	if r := h.HTTPRequest; r != nil {
		what = fmt.Sprintf("%.10s %.200s%.300s", r.Method, r.Host, r.Path)
	}
	body, _ := json.Marshal(notEmulated{Status: http.StatusNotImplemented,
		Message: what + " is not emulated by tokenlab: it emulates the token lifecycle only (see docs/twilsock.md)"})
	r := twilsock.Reply(h.ID, twilsock.StatusOK, "OK")
	r.HTTPStatus = &twilsock.HTTPStatus{Code: http.StatusNotImplemented, Status: "Not Implemented: not emulated by tokenlab"}
	r.HTTPHeaders = map[string]string{"Content-Type": "application/json"}
	c.queue(r, body)
}

// sdkProduct names the product of a twilsock connection: the SDK's own
// name for itself in init's metadata ("type"), when the token grants it,
// or else the products the token grants.
func sdkProduct(metadata json.RawMessage, granted []string) string {
	var meta struct {
		Type string `json:"type"`
	}
	json.Unmarshal(metadata, &meta)
	if granted == nil && (meta.Type == ProductSync || meta.Type == ProductConversations) {
		return meta.Type // a refused token grants nothing yet
	}
	if slices.Contains(granted, meta.Type) {
		return meta.Type
	}
	if len(granted) == 0 {
		return "twilsock"
	}
	return strings.Join(granted, "+")
}
