package sdkconn

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// Voice signaling's keepalive: the SDK reconnects after 15 s without a
// message (its HEARTBEAT_TIMEOUT), so the server sends a heartbeat well
// inside that; the client echoes each one, which keeps the server's read
// deadline (pongWait) moving.
const voiceHeartbeatPeriod = 10 * time.Second

// Answers tokenlab gives where Voice's real service would place or ring a
// call: tokenlab emulates the token lifecycle, not calls.
const (
	callsNotEmulated = "calls are not emulated by tokenlab: it emulates the Voice token lifecycle (listen, register, tokenWillExpire, updateToken) only; see docs/voice.md"
	// voiceRegion names tokenlab in connected, where Twilio names the
	// region and edge that answered: Device.edge reads it.
	voiceRegion = "tokenlab"
)

// VoiceEndpoint serves GET /signal, the path the Voice SDK's Device opens
// on the host given as its chunderw option (always over wss). It verifies
// the token of each listen as Twilio would, answers register, and at the
// token's exp sends 31205 (the Device's AccessTokenExpired, 20104) and
// unregisters the Device. Calls get a clean error. docs/voice.md describes
// what is emulated. It is safe for concurrent use.
type VoiceEndpoint struct {
	o    Options
	log  *slog.Logger
	pool *pool
}

// NewVoice returns the Voice signaling endpoint. Options are those of New;
// Lead is unused (the SDK times its own warning from the ttl in
// connected).
func NewVoice(o Options) *VoiceEndpoint {
	o, log := o.withDefaults()
	return &VoiceEndpoint{o: o, log: log, pool: newPool(o.MaxConns, o.MaxConnsPerIdentity)}
}

// Connections returns the number of open signaling connections.
func (e *VoiceEndpoint) Connections() int { return int(e.pool.total.Load()) }

// Shutdown closes every connection with 1001 going away: the SDK
// reconnects by itself, sends listen again, and re-registers.
func (e *VoiceEndpoint) Shutdown() { e.pool.shutdown() }

// ServeHTTP upgrades the request and runs the connection.
func (e *VoiceEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.pool.serve(w, r, "Voice signaling",
		"GET /signal is the Voice signaling WebSocket endpoint: point a Twilio Voice Device at it with the option chunderw: \"<host>:<port>\" over TLS (see docs/voice.md)",
		func(ws *websocket.Conn) pooled {
			c := &voiceConn{e: e, socket: newSocket(ws, e.log, websocket.TextMessage, []byte(voicesignal.Heartbeat), voiceHeartbeatPeriod)}
			c.life = NewLifecycle(renew.DefaultLead, e.o.Jitter, c)
			return c
		})
}

// voiceConn is one Device's signaling connection. Its token is live from
// an accepted listen until exp (or a refused listen); register is
// answered only while it is.
type voiceConn struct {
	*socket
	e    *VoiceEndpoint
	life *Lifecycle

	mu       sync.Mutex // guards the fields below
	ident    string     // the identity admitted to the pool; set by the first accepted listen
	rec      *record    // the directory's record, from the first accepted listen
	live     bool       // the current token is accepted and not expired
	incoming bool       // the current token's voice grant allows incoming calls
	tok      currentToken
}

// record returns the connection's directory record (nil before listen).
func (c *voiceConn) record() *record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

func (c *voiceConn) admitted() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ident
}

// queue sends one message.
func (c *voiceConn) queue(typ string, payload any) {
	b, err := voicesignal.Encode(typ, payload)
	if err != nil {
		c.e.log.Error("voice signaling: encoding a message", "type", typ, "err", err)
		return
	}
	c.queueBytes(b)
}

// fail sends a signaling error.
func (c *voiceConn) fail(code int, message string) {
	c.queue(voicesignal.TypeError, voicesignal.ErrorPayload{Error: voicesignal.Error{Code: code, Message: message}})
}

// closeWith sends a signaling error, then close, which makes the SDK
// destroy its stream rather than reconnect with the same message, then
// ends the WebSocket.
func (c *voiceConn) closeWith(code int, message string) {
	c.fail(code, message)
	c.queue(voicesignal.TypeClose, struct{}{})
	c.shut(websocket.CloseNormalClosure, "")
}

func (c *voiceConn) sock() *socket { return c.socket }

func (c *voiceConn) ended() string {
	c.life.Stop()
	return c.admitted()
}

func (c *voiceConn) announceEnd() { c.e.o.Directory.close(c.record()) }

func (c *voiceConn) goAway() {
	c.life.Stop()
	c.shut(websocket.CloseGoingAway, "the server is shutting down")
}

// AboutToExpire does nothing: the Device times tokenWillExpire itself,
// from the ttl sent in connected.
func (c *voiceConn) AboutToExpire() {}

// warnNow is the lab's warn now for a Device: a connected that says no
// time is left, so the Device's own timer (ttl − tokenRefreshMs) fires
// tokenWillExpire at once. The token itself is unchanged.
func (c *voiceConn) warnNow() {
	c.mu.Lock()
	live, identity := c.live, c.ident
	c.mu.Unlock()
	if !live {
		return
	}
	c.e.o.Directory.set(c.record(), protocol.SDKWarned, 0, time.Time{})
	c.queue(voicesignal.TypeConnected, voicesignal.Connected{
		Token:  &voicesignal.TokenInfo{Identity: identity, TTL: 0},
		Region: voiceRegion, Edge: voiceRegion})
}

// Expired tells the Device its token expired (31205, AccessTokenExpired
// 20104) and that it is no longer registered. The connection stays open:
// a listen with a new token (updateToken) makes it live again, and the
// Device re-registers by itself.
func (c *voiceConn) Expired() {
	c.mu.Lock()
	c.live = false
	c.mu.Unlock()
	c.e.o.Directory.set(c.record(), protocol.SDKExpired, 0, time.Time{})
	c.fail(voicesignal.CodeTokenExpired, "the token expired and no new one came: call updateToken with a fresh token")
	c.queue(voicesignal.TypeOffline, struct{}{})
}

// readPump reads and answers messages until the connection ends.
func (c *voiceConn) readPump() {
	c.ws.SetReadLimit(voicesignal.MaxMessageBytes)
	c.ws.SetReadDeadline(time.Now().Add(initWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	limiter := rate.NewLimiter(MessageRate, MessageBurst)
	c.limitPings(limiter, func() {
		c.closeWith(voicesignal.CodeConnectionError, fmt.Sprintf("more than %d signaling messages a second, WebSocket pings included: slow down", MessageRate))
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
			c.closeWith(voicesignal.CodeConnectionError, fmt.Sprintf("more than %d signaling messages a second: slow down", MessageRate))
			continue
		}
		if c.admitted() != "" {
			c.ws.SetReadDeadline(time.Now().Add(pongWait))
		}
		if voicesignal.IsHeartbeat(data) {
			continue // the echo of the server's heartbeat
		}
		// Decoded and answered on a goroutine of its own, one message at a
		// time, so that an idle connection keeps a small stack (as
		// twilsock's readPump does).
		handled := make(chan struct{})
		go func() {
			defer close(handled)
			m, err := voicesignal.Decode(data)
			if err != nil {
				c.closeWith(voicesignal.CodeConnectionError, err.Error())
				return
			}
			c.handle(m)
		}()
		<-handled
	}
}

// handle answers one message.
func (c *voiceConn) handle(m voicesignal.Message) {
	c.mu.Lock()
	listened := c.ident != ""
	c.mu.Unlock()
	switch {
	case m.Type == voicesignal.TypeListen:
		c.listen(m)
	case !listened:
		c.closeWith(voicesignal.CodeTokenInvalid, m.Type+" before listen: send listen with the token first")
	case m.Type == voicesignal.TypeRegister:
		c.register(m)
	case m.Type == voicesignal.TypeHangup, m.Type == voicesignal.TypeReject:
		// Ending a call that tokenlab never set up: nothing to do.
	case m.Type == voicesignal.TypeInvite, m.Type == voicesignal.TypeAnswer, m.Type == voicesignal.TypeDTMF,
		m.Type == voicesignal.TypeReinvite, m.Type == voicesignal.TypeMessage:
		var call voicesignal.Call
		m.PayloadInto(&call)
		// hangup with an error ends the SDK's Call at once: it emits error
		// (31005) and disconnect, so device.connect() never hangs.
		c.queue(voicesignal.TypeHangup, voicesignal.Hangup{CallSID: call.CallSID,
			Error: &voicesignal.Error{Code: voicesignal.CodeConnectionError, Message: callsNotEmulated}})
	default: // connected, ready, offline, error, close: the server's
		c.fail(voicesignal.CodeConnectionError, m.Type+" is sent by the server, not the client")
	}
}

// listen verifies the token of a listen: the first on a connection, or an
// updateToken. A refused token ends the stream (error, then close);
// the Device emits error with AccessTokenInvalid (20101) or
// AccessTokenExpired (20104).
func (c *voiceConn) listen(m voicesignal.Message) {
	var l voicesignal.Listen
	if err := m.PayloadInto(&l); err != nil {
		c.closeWith(voicesignal.CodeTokenInvalid, err.Error())
		return
	}
	now := time.Now()
	key := keyOf(l.Token)
	a, refusal := checkToken(c.e.o.Minter, l.Token, now)
	if refusal == nil {
		refusal = c.e.pool.ended.refusal(key, a.Identity, now)
	}
	if refusal == nil && a.Grants.Voice == nil {
		refusal = &Refusal{ErrorCode: voicesignal.CodeAccessTokenInvalid, Reason: "the token has no voice grant: mint it with one (tokenlab mint --voice-incoming, or --voice-app-sid)", Identity: a.Identity}
	}
	c.mu.Lock()
	first, previous := c.ident == "", c.ident
	c.mu.Unlock()
	if refusal == nil && !first && a.Identity != previous {
		refusal = &Refusal{ErrorCode: voicesignal.CodeAccessTokenInvalid,
			Reason: fmt.Sprintf("the new token is for identity %q, this Device registered as %q: create a new Device to change identity", a.Identity, previous)}
	}
	if refusal != nil {
		code := voicesignal.CodeTokenInvalid
		if refusal.ErrorCode == voicesignal.CodeAccessTokenExpired {
			code = voicesignal.CodeTokenExpired
		}
		c.life.Stop()
		if first {
			c.e.o.Directory.refused(ProductVoice, refusal.Identity, refusal.ErrorCode)
		} else {
			c.e.o.Directory.set(c.record(), protocol.SDKRefused, refusal.ErrorCode, time.Time{})
		}
		c.closeWith(code, refusal.Reason)
		return
	}
	if first && !c.e.pool.admit(a.Identity) {
		c.closeWith(voicesignal.CodeConnectionError,
			fmt.Sprintf("more than %d Voice signaling connections for identity %q: destroy some Devices", c.e.o.MaxConnsPerIdentity, a.Identity))
		return
	}
	var rec *record
	if first {
		rec = c.e.o.Directory.open(ProductVoice, a.Identity, a.Exp)
	}
	c.mu.Lock()
	if first {
		c.rec = rec
	}
	c.ident = a.Identity
	c.tok = current(key, a)
	wasLive := c.live
	c.live = true
	c.incoming = a.Grants.Voice.Incoming != nil && a.Grants.Voice.Incoming.Allow
	c.mu.Unlock()
	c.life.SetToken(a.TTL, a.Exp)
	if first {
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		c.e.log.Info("voice signaling: connected", "identity", a.Identity, "exp", a.Exp)
	} else {
		c.e.o.Directory.set(c.record(), protocol.SDKUpdated, 0, a.Exp)
	}
	// connected goes to a stream whose token was not live: the first
	// listen, or one after expiry. An update on a live stream is accepted
	// silently, as Twilio's service does: the Device arms tokenWillExpire
	// only on connected, so it does not re-arm after updateToken.
	if !wasLive {
		ttl := int64(a.Exp.Sub(now) / time.Second)
		c.queue(voicesignal.TypeConnected, voicesignal.Connected{
			Token:  &voicesignal.TokenInfo{Identity: a.Identity, TTL: ttl},
			Region: voiceRegion, Edge: voiceRegion})
	}
}

// register answers presence: audio true registers (ready), false
// unregisters (offline). Without a live token (31205), or without incoming
// calls allowed by the voice grant (31204), registering is refused: error,
// then offline, so that device.register() settles.
func (c *voiceConn) register(m voicesignal.Message) {
	var r voicesignal.Register
	if err := m.PayloadInto(&r); err != nil {
		c.fail(voicesignal.CodeConnectionError, err.Error())
		return
	}
	c.mu.Lock()
	live, incoming := c.live, c.incoming
	c.mu.Unlock()
	switch {
	case !r.Media.Audio:
		c.queue(voicesignal.TypeOffline, struct{}{})
	case !live:
		c.fail(voicesignal.CodeTokenExpired, "the token expired: call updateToken with a fresh token; the Device then registers again")
		c.queue(voicesignal.TypeOffline, struct{}{})
	case !incoming:
		c.fail(voicesignal.CodeTokenInvalid, "the token's voice grant does not allow incoming calls, which registering is for: mint it with incoming.allow true (tokenlab mint --voice-incoming)")
		c.queue(voicesignal.TypeOffline, struct{}{})
	default:
		c.queue(voicesignal.TypeReady, struct{}{})
	}
}
