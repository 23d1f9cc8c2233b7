//go:build js && wasm

package main

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

// app is the page's state. Every field is owned by the loop goroutine:
// browser callbacks and network goroutines only post functions to it, so
// there is no locking except around what snapshot() reads synchronously.
type app struct {
	events chan func()
	clock  *serverClock
	sched  *renew.Scheduler
	ui     *ui

	// The live token; tok is nil when signed out.
	tok      *token.Token
	exp      time.Time
	lead     time.Duration // warning lead for tok, the server's when known
	renewals int           // new tokens adopted since sign-in

	// Renewal in flight.
	renewing     bool
	renewTrigger string
	renewID      string // id of a renewal asked over the socket
	renewAttempt int    // failed attempts since the last success
	seq          int    // for message ids

	// The socket.
	ws             *socket
	wsGen          int // bumps on every dial, so stale callbacks are ignored
	wsDialed       time.Time
	connected      bool // hello received on the current socket
	everConnected  bool
	reconnectTry   int
	reconnectTimer *time.Timer
	pings          map[string]time.Time

	// ignoreWarnings is a test hook: drop the server's "expiring" pushes to
	// show that the page's own timer renews by itself.
	ignoreWarnings bool

	snapMu sync.Mutex
	snap   snapshot
}

// snapshot is what window.tokenlab.snapshot() reports; secondsLeft and
// status are computed when it is called.
type snapshot struct {
	identity, jti string
	exp           time.Time
	lead          time.Duration
	grants        []string
	renewals      int
	renewing      bool
	connected     bool
}

func newApp() *app {
	a := &app{
		events: make(chan func(), 256),
		clock:  &serverClock{},
		pings:  map[string]time.Time{},
	}
	a.sched = renew.NewScheduler(a.clock.now, 0)
	return a
}

// later runs f on the loop once the browser has painted its next frame:
// what a first token's view does not need (the timeline, the socket)
// waits until the token is on screen. Calls run in the order made.
func (a *app) later(f func()) { afterPaint(a.post, f) }

// post runs f on the loop. It never blocks the caller, which may be a
// browser callback.
func (a *app) post(f func()) {
	select {
	case a.events <- f:
	default:
		go func() { a.events <- f }()
	}
}

// run is the loop: one goroutine applies every event in order.
func (a *app) run() {
	// The display ticks four times a second. It sleeps rather than using a
	// time.Ticker: a time.Time channel costs the browser build ~25 KB (see
	// renew.Clock). The tick only draws; renewal decisions are the
	// scheduler's and the server's.
	go func() {
		for {
			time.Sleep(250 * time.Millisecond)
			a.post(func() { a.ui.tick(a) })
		}
	}()
	for {
		select {
		case f := <-a.events:
			a.safely(f)
		case <-a.sched.C:
			a.safely(a.fallbackDue)
		}
	}
}

// safely runs f, turning a panic into a reported error: a bug in one
// handler must not stop the page (and its renewals) for good.
func (a *app) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			msg := "internal error"
			if err, ok := r.(error); ok {
				msg += ": " + err.Error()
			} else if s, ok := r.(string); ok {
				msg += ": " + s
			}
			a.fail("internal", "the page hit a bug ("+msg+"); it keeps running", "")
		}
	}()
	f()
}

// serverClock is the local clock corrected by the measured offset. The
// scheduler's goroutine reads it, hence the lock.
type serverClock struct {
	mu  sync.Mutex
	off renew.Offset
}

func (c *serverClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off.Now(time.Now())
}

func (c *serverClock) observe(sent, received, server time.Time, resolution time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off.Observe(sent, received, server, resolution)
}

func (c *serverClock) value() (off, uncertainty time.Duration, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	off, uncertainty = c.off.Value()
	return off, uncertainty, c.off.Known()
}

func (a *app) nextID(prefix string) string {
	a.seq++
	return prefix + strconv.Itoa(a.seq)
}

// --- HTTP -----------------------------------------------------------------

// request posts body to path on a goroutine and hands the response to done
// on the loop, after feeding its Date header to the clock.
func (a *app) request(path string, body []byte, done func(response)) {
	go func() { a.answered(postJSON(path, body), done) }()
}

// answered hands r to done on the loop, after feeding its Date header to
// the clock.
func (a *app) answered(r response, done func(response)) {
	a.post(func() {
		a.observeDate(r)
		done(r)
	})
}

func (a *app) observeDate(r response) {
	if ms, ok := parseHTTPDate(r.date); ok {
		a.clock.observe(r.sent, r.received, time.UnixMilli(ms), time.Second)
	}
}

func errorOf(r response) (code, message, field string) {
	if r.err != nil {
		return "network", "the server could not be reached: " + r.err.Error(), ""
	}
	if code, message, field, ok := view.ErrorAnswer(r.body); ok {
		return code, message, field
	}
	return "http_" + strconv.Itoa(r.status), "the server answered HTTP " + strconv.Itoa(r.status), ""
}

// --- signing in and out ---------------------------------------------------

// signIn posts the login form's request.
func (a *app) signIn(body []byte) {
	a.ui.busy(true)
	a.request("/token", body, func(r response) {
		a.ui.busy(false)
		if r.err != nil || r.status != 200 {
			code, msg, field := errorOf(r)
			a.ui.fieldError(field, msg)
			a.fail(code, msg, field)
			return
		}
		tok, ok := view.TokenAnswer(r.body)
		if !ok {
			a.fail("bad_answer", "the server's answer holds no token", "")
			return
		}
		a.renewals = 0
		if a.adopt(tok, "sign-in", 0, false) {
			a.ui.focusLive()
			a.ui.eventLater("signed in as " + a.tok.Claims.Identity())
			a.later(a.dial)
		}
	})
}

// resume picks up a session the browser already has (a reload): a refresh
// answers with a token when the session cookie is still good.
func (a *app) resume() {
	done := func(r response) {
		if a.tok != nil || r.status != 200 {
			a.ui.showSignIn(true)
			return
		}
		tok, ok := view.TokenAnswer(r.body)
		if !ok {
			a.ui.showSignIn(true)
			return
		}
		a.renewals = 0
		if a.adopt(tok, "resumed", 0, false) {
			a.ui.eventLater("resumed the session of " + a.tok.Claims.Identity())
			a.later(a.dial)
		}
	}
	// app.js usually asked already, while the program downloaded, and
	// often has the answer: then the token is shown before the page's first
	// layout, without waiting for the loop.
	if r, ok := bootAnswer(); ok {
		a.observeDate(r)
		done(r)
		return
	}
	go func() {
		if r, ok := bootResume(); ok {
			a.answered(r, done)
			return
		}
		a.answered(postJSON("/token/refresh?probe=1", nil), done)
	}()
}

// logout ends the session on the server; the page signs out whatever the
// answer, since the user asked to.
func (a *app) logout() {
	a.request("/logout", nil, func(r response) {})
	a.signOut("signed out", "logout")
}

// signOut stops everything live and shows the sign-in form. It never
// reconnects: a revoked session stays revoked until the user signs in.
func (a *app) signOut(text, reason string) {
	if a.tok == nil && a.ws == nil {
		return
	}
	a.tok, a.exp, a.renewing, a.renewID = nil, time.Time{}, false, ""
	a.sched.Disarm()
	a.stopSocket()
	a.connected = false
	a.ui.event(text)
	a.ui.showSignIn(true)
	a.publish()
	a.ui.render(a)
	dispatch("tokenlab:notice", map[string]any{"type": "signed_out", "reason": reason, "message": text})
}

// fail reports an error on the page and to listeners.
func (a *app) fail(code, message, field string) {
	a.ui.notice(message, true)
	dispatch("tokenlab:error", map[string]any{"code": code, "message": message, "field": field})
}

// --- the token ------------------------------------------------------------

// adopt makes raw the live token and reports whether the page holds a
// token afterwards. leadMS is the server's warning lead for it, 0 when
// unknown; ours says raw answers the page's own renewal.
func (a *app) adopt(raw, trigger string, leadMS int64, ours bool) bool {
	t, err := token.Decode(raw)
	if err != nil {
		a.fail("bad_token", "the server sent a token the page cannot decode: "+err.Error(), "")
		return a.tok != nil
	}
	if a.tok != nil && (t.Claims.JTI == a.tok.Claims.JTI || t.Claims.Exp < a.tok.Claims.Exp) {
		// The same token again (tabs that asked together share one), or an
		// older one overtaken by a newer: nothing changes but the lead.
		if leadMS > 0 && t.Claims.JTI == a.tok.Claims.JTI {
			a.lead = time.Duration(leadMS) * time.Millisecond
		}
		if ours {
			a.renewing, a.renewID = false, ""
			a.sched.Arm(a.exp, a.lead)
			a.ui.event("the server kept the current token: it was minted moments ago")
		}
		a.publish()
		return true
	}
	first := a.tok == nil
	a.tok = t
	issued, _, exp := view.Times(t.Claims)
	a.exp = exp
	a.lead = renew.Lead(exp.Sub(issued), renew.DefaultLead)
	if leadMS > 0 {
		a.lead = time.Duration(leadMS) * time.Millisecond
	}
	a.renewing, a.renewID, a.renewAttempt = false, "", 0
	if !first {
		a.renewals++
		a.ui.event("renewed (" + trigger + "): " + t.Claims.JTI)
	}
	a.sched.Arm(a.exp, a.lead)
	a.ui.showSignIn(false)
	a.publish()
	a.ui.render(a)
	dispatch("tokenlab:token", map[string]any{
		"jti": t.Claims.JTI, "identity": t.Claims.Identity(), "expiresAt": t.Claims.Exp,
		"renewals": a.renewals, "trigger": trigger,
	})
	return true
}

// publish copies what snapshot() reports.
func (a *app) publish() {
	s := snapshot{renewals: a.renewals, renewing: a.renewing, connected: a.connected, lead: a.lead}
	if a.tok != nil {
		s.identity, s.jti, s.exp = a.tok.Claims.Identity(), a.tok.Claims.JTI, a.exp
		s.grants = a.tok.Claims.Grants.Keys()
	}
	a.snapMu.Lock()
	a.snap = s
	a.snapMu.Unlock()
}

func (a *app) status() view.Status {
	return view.StatusAt(a.clock.now(), a.exp, a.lead, a.renewing)
}

// --- renewing -------------------------------------------------------------

// renewIfNear renews when the token is within its lead of expiry or past
// it: the page may have slept, been hidden or offline and missed time.
func (a *app) renewIfNear(trigger string) bool {
	if a.tok != nil && renew.Near(a.clock.now(), a.exp, a.lead) {
		a.renew(trigger)
		return true
	}
	return false
}

// fallbackDue runs when the page's own timer fires: the server's warning
// did not arrive in time (or a retry is due).
func (a *app) fallbackDue() {
	if a.tok == nil {
		return
	}
	a.renew("page timer")
}

// renew asks for a new token over the socket when it is connected, else
// over HTTP. One renewal runs at a time.
func (a *app) renew(trigger string) {
	if a.tok == nil || a.renewing {
		return
	}
	a.renewing, a.renewTrigger = true, trigger
	a.publish()
	a.ui.render(a)
	if a.connected {
		id := a.nextID("renew-")
		if a.ws.send(string(protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: id}))) {
			a.renewID = id
			// The answer normally takes milliseconds; if it does not come,
			// HTTP takes over while there is still time.
			wait := min(3*time.Second, max(a.exp.Sub(a.clock.now())/3, 500*time.Millisecond))
			time.AfterFunc(wait, func() {
				a.post(func() {
					if a.renewing && a.renewID == id {
						a.renewID = ""
						a.renewHTTP()
					}
				})
			})
			return
		}
	}
	a.renewHTTP()
}

func (a *app) renewHTTP() {
	a.request("/token/refresh", nil, func(r response) {
		if a.tok == nil {
			return // signed out meanwhile
		}
		switch {
		case r.err == nil && r.status == 200:
			if tok, ok := view.TokenAnswer(r.body); ok {
				a.adopt(tok, a.renewTrigger, 0, true)
				return
			}
		case r.status == 401:
			a.signOut("session ended: sign in again", "session_gone")
			return
		}
		_, msg, _ := errorOf(r)
		a.renewFailed(msg)
	})
}

// renewFailed schedules a retry on the page's timer: with backoff, bounded
// by the time left, when the token is near expiry; at the normal fallback
// time otherwise (a failed check after a lost connection).
func (a *app) renewFailed(msg string) {
	a.renewing, a.renewID = false, ""
	now := a.clock.now()
	if !renew.Near(now, a.exp, a.lead) {
		a.sched.Arm(a.exp, a.lead)
		a.ui.event("renewal failed (" + msg + ")")
	} else {
		delay := renew.RetryDelay(a.renewAttempt, a.exp.Sub(now), rand.Float64)
		a.renewAttempt++
		a.sched.ArmAt(now.Add(delay))
		a.ui.event("renewal failed (" + msg + "); retrying in " + view.Duration(delay+999*time.Millisecond))
	}
	a.fail("renew_failed", "renewal failed: "+msg, "")
	a.publish()
	a.ui.render(a)
}

// --- the socket -----------------------------------------------------------

// dial opens the socket if signed in and not already connecting.
func (a *app) dial() {
	if a.tok == nil || a.ws != nil {
		return
	}
	if a.reconnectTimer != nil {
		a.reconnectTimer.Stop()
		a.reconnectTimer = nil
	}
	a.wsGen++
	gen := a.wsGen
	a.wsDialed = time.Now()
	var helloSeen bool
	a.ws = dial("/ws", a.post, socketHandlers{
		open: func() {},
		message: func(data string) {
			if gen != a.wsGen {
				return
			}
			m, err := protocol.Decode([]byte(data))
			if err != nil {
				a.fail("bad_message", "the server sent a message the page does not understand: "+err.Error(), "")
				return
			}
			if m.Type == protocol.TypeHello {
				helloSeen = true
			}
			a.message(m)
		},
		close: func(code int, reason string) {
			if gen != a.wsGen {
				return
			}
			a.closed(code, reason, helloSeen)
		},
	})
}

func (a *app) stopSocket() {
	a.wsGen++ // callbacks of the old socket are ignored from now on
	if a.ws != nil {
		a.ws.close(1000, "signed out")
		a.ws = nil
	}
	if a.reconnectTimer != nil {
		a.reconnectTimer.Stop()
		a.reconnectTimer = nil
	}
	clear(a.pings)
}

func (a *app) message(m protocol.Message) {
	now := time.Now()
	switch m.Type {
	case protocol.TypeHello:
		a.clock.observe(a.wsDialed, now, time.UnixMilli(m.ServerTimeMS), time.Millisecond)
		a.connected = true
		a.reconnectTry = 0
		if a.everConnected {
			a.ui.event("reconnected")
		} else {
			a.ui.event("connected")
		}
		dispatch("tokenlab:notice", map[string]any{"type": "connected", "reconnect": a.everConnected})
		a.everConnected = true
		a.ping() // a round trip measures the offset better than hello
		a.keepPinging(a.wsGen)
		if a.tok != nil && m.JTI != "" && m.JTI == a.tok.Claims.JTI && m.LeadMS > 0 {
			a.lead = time.Duration(m.LeadMS) * time.Millisecond
			a.sched.Arm(a.exp, a.lead)
		}
		switch {
		case a.tok != nil && m.JTI != "" && m.JTI != a.tok.Claims.JTI && m.Exp > a.tok.Claims.Exp:
			// Another tab renewed while this one was away: fetch that token.
			a.renew("reconnect (newer token)")
		default:
			a.renewIfNear("reconnect")
		}
	case protocol.TypePong:
		if sent, ok := a.pings[m.ID]; ok {
			delete(a.pings, m.ID)
			a.clock.observe(sent, now, time.UnixMilli(m.ServerTimeMS), time.Millisecond)
		}
	case protocol.TypeExpiring:
		a.ui.event("warning received: expires in " + view.Duration(time.Unix(m.Exp, 0).Sub(a.clock.now())+999*time.Millisecond))
		dispatch("tokenlab:notice", map[string]any{"type": "expiring", "jti": m.JTI, "exp": m.Exp, "ignored": a.ignoreWarnings})
		if a.ignoreWarnings {
			return
		}
		if a.tok != nil && m.JTI == a.tok.Claims.JTI {
			if m.LeadMS > 0 {
				a.lead = time.Duration(m.LeadMS) * time.Millisecond
			}
			a.renew("server warning")
		}
	case protocol.TypeExpired:
		a.ui.event("the server says the token expired")
		dispatch("tokenlab:notice", map[string]any{"type": "expired", "jti": m.JTI})
		if a.tok != nil && m.JTI == a.tok.Claims.JTI {
			a.renew("server: expired")
		}
	case protocol.TypeToken:
		trigger, ours := "pushed by the server", m.ID != "" && m.ID == a.renewID
		if ours {
			trigger = a.renewTrigger
		}
		a.adopt(m.Token, trigger, m.LeadMS, ours)
	case protocol.TypeRevoked:
		dispatch("tokenlab:notice", map[string]any{"type": "revoked", "reason": m.Reason})
		a.signOut("revoked ("+m.Reason+"): sign in again", m.Reason)
	case protocol.TypeError:
		if m.Code == protocol.ErrCodeSessionGone {
			a.signOut("session ended: sign in again", "session_gone")
			return
		}
		if m.ID != "" && m.ID == a.renewID {
			a.renewFailed(m.Text)
			return
		}
		a.fail(m.Code, m.Text, "")
	}
	a.publish()
	a.ui.render(a)
}

// Pings keep the clock offset fresh and find a connection that died
// without a close (a laptop that slept, a dropped route), which the browser
// would otherwise report only minutes later.
const (
	pingEvery = 30 * time.Second
	pongWait  = 10 * time.Second
)

func (a *app) ping() {
	id := a.nextID("ping-")
	a.pings[id] = time.Now()
	if !a.ws.send(string(protocol.Encode(protocol.Message{Type: protocol.TypePing, ID: id}))) {
		delete(a.pings, id)
		return
	}
	gen := a.wsGen
	time.AfterFunc(pongWait, func() {
		a.post(func() {
			if _, waiting := a.pings[id]; waiting && gen == a.wsGen && a.ws != nil {
				// A dead connection may never finish its close handshake:
				// give up on it now (its late close event is ignored) and
				// reconnect.
				dead := a.ws
				a.wsGen++
				dead.close(4000, "no answer to ping")
				a.closed(4000, "no answer to ping", true)
			}
		})
	})
}

// keepPinging pings every pingEvery while socket generation gen is up.
func (a *app) keepPinging(gen int) {
	time.AfterFunc(pingEvery, func() {
		a.post(func() {
			if gen == a.wsGen && a.connected {
				a.ping()
				a.keepPinging(gen)
			}
		})
	})
}

// closed handles the end of the socket: terminal codes sign out, anything
// else reconnects with backoff.
func (a *app) closed(code int, reason string, helloSeen bool) {
	a.ws = nil
	wasConnected := a.connected
	a.connected = false
	clear(a.pings)
	if protocol.Terminal(code) {
		text := "session ended: sign in again"
		if code == protocol.CloseRevoked {
			text = "revoked: sign in again"
		}
		a.signOut(text, "close_"+strconv.Itoa(code))
		return
	}
	if a.tok == nil {
		return
	}
	if wasConnected {
		a.ui.event("disconnected (" + strconv.Itoa(code) + closeReason(reason) + ")")
		dispatch("tokenlab:notice", map[string]any{"type": "disconnected", "code": code, "reason": reason})
	}
	if !helloSeen {
		// The upgrade was refused or the server is down. If the session is
		// gone the refresh answers 401 and the page signs out instead of
		// knocking forever; if the token is near expiry it renews too.
		a.checkSession()
	}
	a.scheduleReconnect()
	a.publish()
	a.ui.render(a)
}

func closeReason(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// checkSession renews over HTTP after a failed connection when the token
// is near expiry, or every few failures otherwise, so a session that ended
// while the page was away is noticed (401) and never retried forever.
func (a *app) checkSession() {
	if a.renewing {
		return
	}
	if renew.Near(a.clock.now(), a.exp, a.lead) || a.reconnectTry%3 == 0 {
		a.renewing, a.renewTrigger = true, "reconnect"
		a.renewHTTP()
	}
}

func (a *app) scheduleReconnect() {
	delay := renew.ReconnectBackoff.Delay(a.reconnectTry, rand.Float64)
	a.reconnectTry++
	if a.reconnectTimer != nil {
		a.reconnectTimer.Stop()
	}
	a.reconnectTimer = time.AfterFunc(delay, func() { a.post(a.dial) })
}

// wake runs when the page may have missed time or the network: visible
// again, online, focused. It reconnects at once and renews if near expiry.
func (a *app) wake(trigger string) {
	if a.tok == nil {
		return
	}
	if !a.connected && a.ws == nil {
		a.ui.event(trigger + ": reconnecting")
		a.reconnectTry = 0
		a.dial()
	}
	if a.renewIfNear(trigger) {
		a.ui.event(trigger + ": token near expiry, renewing")
	}
}
