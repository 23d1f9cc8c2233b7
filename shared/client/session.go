package client

import (
	"strconv"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Phase is where a client stands with its session.
type Phase uint8

// The phases: a client starts not knowing whether it has a session,
// until Resume (or a sign-in) answers.
const (
	Starting  Phase = iota // looking for a session the client already has
	SignedOut              // no token: a sign-in is needed
	SignedIn               // holding a live token
)

// Snapshot is the client's state, for rendering and reporting.
type Snapshot struct {
	Phase     Phase
	Token     *token.Token // nil when signed out
	Exp       time.Time    // zero when signed out
	Lead      time.Duration
	Renewals  int
	Renewing  bool
	SigningIn bool
	Connected bool // the server greeted the socket
	Dialling  bool // a socket is open or opening
	// SessionID names the server's session (its answers carry it); ""
	// before the first answer and after signing out.
	SessionID string
	// SDK are the Twilio SDK connections of the session's identity, in
	// the order the server first told of them.
	SDK []SDKConn
}

// Snapshot returns the state as of the last change. It is safe to call
// from any goroutine.
func (c *Client) Snapshot() Snapshot {
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	return c.snap
}

// publish copies the state Snapshot reports and tells the observer.
func (c *Client) publish() {
	s := Snapshot{
		Phase: c.phase, Token: c.tok, Exp: c.exp, Lead: c.lead, Renewals: c.renewals,
		Renewing: c.renewing, SigningIn: c.signingIn, Connected: c.connected, Dialling: c.ws != nil,
		SessionID: c.sessionID, SDK: c.sdkCopy(),
	}
	c.snapMu.Lock()
	c.snap = s
	c.snapMu.Unlock()
	if c.obs.Changed != nil {
		c.obs.Changed()
	}
}

// serverClock is the local clock corrected by the measured offset. The
// scheduler's goroutine reads it, hence the lock.
type serverClock struct {
	wall renew.Clock
	mu   sync.Mutex
	off  renew.Offset
}

func (k *serverClock) now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.off.Now(k.wall())
}

func (k *serverClock) observe(sent, received, server time.Time, resolution time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.off.Observe(sent, received, server, resolution)
}

// Now returns the server's time as the client estimates it. It is safe to
// call from any goroutine.
func (c *Client) Now() time.Time { return c.clock.now() }

// Offset returns the server's clock minus the local one, its uncertainty,
// and whether it has been measured at all.
func (c *Client) Offset() (off, uncertainty time.Duration, known bool) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	off, uncertainty = c.clock.off.Value()
	return off, uncertainty, c.clock.off.Known()
}

// --- HTTP -----------------------------------------------------------------

// Request posts body to path on a goroutine and hands the answer to done
// on the loop, after feeding its Date to the clock.
func (c *Client) Request(path string, body []byte, done func(Response)) {
	go func() { c.answered(c.tr.Post(path, body), done) }()
}

// answered hands r to done on the loop, after feeding its Date to the
// clock.
func (c *Client) answered(r Response, done func(Response)) {
	c.Post(func() {
		c.observeDate(r)
		done(r)
	})
}

func (c *Client) observeDate(r Response) {
	if !r.ServerTime.IsZero() {
		c.clock.observe(r.Sent, r.Received, r.ServerTime, time.Second)
	}
}

// ErrorOf says why r is not a success: its error answer's code, message
// and field, or what else went wrong.
func ErrorOf(r Response) (code, message, field string) {
	if r.Err != nil {
		return "network", "the server could not be reached: " + r.Err.Error(), ""
	}
	if e, ok := protocol.ParseErrorAnswer(r.Body); ok {
		return e.Code, e.Message, e.Field
	}
	return "http_" + strconv.Itoa(r.Status), "the server answered HTTP " + strconv.Itoa(r.Status), ""
}

// --- signing in and out ---------------------------------------------------

// SignIn posts a sign-in request (the body of POST /token).
func (c *Client) SignIn(body []byte) {
	c.Post(func() {
		c.signingIn = true
		c.publish()
		c.Request("/token", body, c.signedIn)
	})
}

// SignInWith takes r, an answer to POST /token the caller already has (the
// embed's loader signs in while the program downloads), as SignIn would
// its own. It runs on the caller's goroutine: call it before Run, or on
// the loop (through Post).
func (c *Client) SignInWith(r Response) {
	c.observeDate(r)
	c.signedIn(r)
}

func (c *Client) signedIn(r Response) {
	c.signingIn = false
	c.publish()
	if r.Err != nil || r.Status != 200 {
		code, msg, field := ErrorOf(r)
		c.failed(code, msg, field, true)
		return
	}
	a, ok := protocol.ParseTokenAnswer(r.Body)
	if !ok {
		c.fail("bad_answer", "the server's answer holds no token", "")
		return
	}
	c.renewals = 0
	c.sessionID = a.SessionID
	if c.adopt(a.Token, TriggerSignIn, 0, false) {
		c.eventLater("signed in as " + c.tok.Claims.Identity())
		c.later(c.dial)
	}
}

// TriggerSignIn is the Trigger of the token a sign-in brings.
const TriggerSignIn = "sign-in"

// ResumeWith picks up a session from r, an answer to POST /token/refresh
// the caller already has (the page's loader asked while the program
// downloaded). It runs on the caller's goroutine: call it before Run.
func (c *Client) ResumeWith(r Response) {
	c.observeDate(r)
	c.resumed(r)
}

// Resume picks up a session the client may already have (a reload):
// fetch's answer (a POST /token/refresh when fetch is nil) holds a token
// when the session cookie is still good.
func (c *Client) Resume(fetch func() Response) {
	if fetch == nil {
		fetch = func() Response { return c.tr.Post("/token/refresh", nil) }
	}
	go func() { c.answered(fetch(), c.resumed) }()
}

func (c *Client) resumed(r Response) {
	if c.tok != nil {
		return
	}
	a, ok := protocol.ParseTokenAnswer(r.Body)
	if r.Err != nil || r.Status != 200 || !ok {
		c.phase = SignedOut
		c.publish()
		return
	}
	c.renewals = 0
	c.sessionID = a.SessionID
	if c.adopt(a.Token, "resumed", 0, false) {
		c.eventLater("resumed the session of " + c.tok.Claims.Identity())
		c.later(c.dial)
	}
}

// Logout ends the session on the server; the client signs out whatever
// the answer, since the user asked to.
func (c *Client) Logout() {
	c.Post(func() {
		c.Request("/logout", nil, func(Response) {})
		c.signOut("signed out", "logout")
	})
}

// signOut stops everything live. It never reconnects: a revoked session
// stays revoked until the user signs in.
func (c *Client) signOut(text, reason string) {
	if c.tok == nil && c.ws == nil {
		return
	}
	c.tok, c.exp, c.renewing, c.renewID, c.sessionID = nil, time.Time{}, false, "", ""
	c.phase = SignedOut
	c.sched.Disarm()
	c.stopSocket()
	c.connected = false
	c.event(text)
	c.publish()
	c.note(Note{Kind: NoteSignedOut, Reason: reason, Message: text})
}

// --- the token ------------------------------------------------------------

// adopt makes raw the live token and reports whether the client holds a
// token afterwards. leadMS is the server's warning lead for it, 0 when
// unknown; ours says raw answers the client's own renewal.
func (c *Client) adopt(raw, trigger string, leadMS int64, ours bool) bool {
	return c.adoptFrom(raw, trigger, "", leadMS, ours)
}

func (c *Client) adoptFrom(raw, trigger, reason string, leadMS int64, ours bool) bool {
	t, err := token.Decode(raw)
	if err != nil {
		c.fail("bad_token", "the server sent a token the page cannot decode: "+err.Error(), "")
		return c.tok != nil
	}
	if c.tok != nil && (t.Claims.JTI == c.tok.Claims.JTI || !ours && t.Claims.Exp < c.tok.Claims.Exp) {
		// The same token again (tabs that asked together share one), or a
		// push of an older one overtaken by a newer: nothing changes but
		// the lead. The answer to this client's own renewal is the
		// session's newest token even when it expires sooner (a server
		// whose clock went back, the lab's skew).
		if leadMS > 0 && t.Claims.JTI == c.tok.Claims.JTI {
			c.lead = time.Duration(leadMS) * time.Millisecond
		}
		if t.Claims.JTI == c.tok.Claims.JTI {
			c.note(Note{Kind: NoteKept, JTI: t.Claims.JTI, Identity: t.Claims.Identity(), Exp: t.Claims.Exp,
				Trigger: trigger, Reason: reason})
		}
		if ours {
			c.renewing, c.renewID = false, ""
			c.sched.Arm(c.exp, c.lead)
			c.event("the server kept the current token: it was minted moments ago")
		}
		c.publish()
		return true
	}
	first := c.tok == nil
	c.tok = t
	c.phase = SignedIn
	issued, _, exp := token.Times(t.Claims)
	c.exp = exp
	c.lead = renew.Lead(exp.Sub(issued), renew.DefaultLead)
	if leadMS > 0 {
		c.lead = time.Duration(leadMS) * time.Millisecond
	}
	c.renewing, c.renewID, c.renewAttempt = false, "", 0
	c.due = false
	if !first {
		c.renewals++
		c.event("renewed (" + trigger + "): " + t.Claims.JTI)
	}
	c.sched.Arm(c.exp, c.lead)
	c.publish()
	c.note(Note{Kind: NoteToken, JTI: t.Claims.JTI, Identity: t.Claims.Identity(), Exp: t.Claims.Exp,
		Renewals: c.renewals, Trigger: trigger, Reason: reason})
	return true
}

// --- renewing -------------------------------------------------------------

// Renew asks for a new token now (the page's button).
func (c *Client) Renew(trigger string) { c.Post(func() { c.renew(trigger) }) }

// Wake says the client may have missed time or the network (the page is
// visible again, online, focused): it reconnects at once and renews if the
// token is near expiry.
func (c *Client) Wake(trigger string) { c.Post(func() { c.wake(trigger) }) }

// renewIfNear renews when the token is within its lead of expiry or past
// it: the client may have slept, been hidden or offline and missed time.
func (c *Client) renewIfNear(trigger string) bool {
	if c.tok != nil && renew.Near(c.clock.now(), c.exp, c.lead) {
		c.renew(trigger)
		return true
	}
	return false
}

// fallbackDue runs when the client's own timer fires: the server's warning
// did not arrive in time (or a retry is due).
func (c *Client) fallbackDue() {
	if c.tok == nil {
		return
	}
	if !c.due && !renew.Near(c.clock.now(), c.exp, c.lead) {
		// A fire from before the token changed (the timer's channel holds
		// one): this token is not due yet.
		c.sched.Arm(c.exp, c.lead)
		return
	}
	c.renew("page timer")
}

// renew asks for a new token over the socket when it is connected, else
// over HTTP. One renewal runs at a time: triggers that come while one
// runs join it.
func (c *Client) renew(trigger string) {
	if c.tok == nil || c.renewing {
		return
	}
	c.renewing, c.renewTrigger = true, trigger
	c.publish()
	if c.connected {
		id := c.nextID("renew-")
		if c.ws.Send(string(protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: id}))) {
			c.renewID = id
			// The answer normally takes milliseconds; if it does not come,
			// HTTP takes over while there is still time.
			wait := min(3*time.Second, max(c.exp.Sub(c.clock.now())/3, 500*time.Millisecond))
			time.AfterFunc(wait, func() {
				c.Post(func() {
					if c.renewing && c.renewID == id {
						c.renewID = ""
						c.renewHTTP()
					}
				})
			})
			return
		}
	}
	c.renewHTTP()
}

func (c *Client) renewHTTP() {
	c.Request("/token/refresh", nil, func(r Response) {
		if c.tok == nil {
			return // signed out meanwhile
		}
		switch {
		case r.Err == nil && r.Status == 200:
			if a, ok := protocol.ParseTokenAnswer(r.Body); ok {
				if a.SessionID != "" {
					c.sessionID = a.SessionID
				}
				c.adopt(a.Token, c.renewTrigger, 0, true)
				return
			}
		case r.Status == 401:
			if code, _, _ := ErrorOf(r); code != labRefusal {
				c.signOut("session ended: sign in again", "session_gone")
				return
			}
		}
		_, msg, _ := ErrorOf(r)
		c.renewFailed(msg)
	})
}

// renewFailed schedules a retry on the client's timer: with backoff,
// bounded by the time left, when the token is near expiry; at the normal
// fallback time otherwise (a failed check after a lost connection).
func (c *Client) renewFailed(msg string) {
	c.renewing, c.renewID = false, ""
	now := c.clock.now()
	if !c.due && !renew.Near(now, c.exp, c.lead) {
		c.sched.Arm(c.exp, c.lead)
		c.event("renewal failed (" + msg + ")")
	} else {
		delay := renew.RetryDelay(c.renewAttempt, c.exp.Sub(now), c.rnd)
		c.renewAttempt++
		c.sched.ArmAt(now.Add(delay))
		c.event("renewal failed (" + msg + "); retrying in " + Duration(delay+999*time.Millisecond))
	}
	c.fail("renew_failed", "renewal failed: "+msg, "")
	c.publish()
}

// wake reconnects at once and renews if near expiry.
func (c *Client) wake(trigger string) {
	if c.tok == nil {
		return
	}
	if !c.connected && c.ws == nil {
		c.event(trigger + ": reconnecting")
		c.reconnectTry = 0
		c.dial()
	}
	if c.renewIfNear(trigger) {
		c.event(trigger + ": token near expiry, renewing")
	}
}

// Duration formats d in whole seconds: "1h 02m 03s", "2m 03s", "3s", and
// beyond a day, "3d 04h 05m".
func Duration(d time.Duration) string {
	s := int64(d / time.Second)
	h, m := s/3600, s/60%60
	s %= 60
	switch {
	case h > 24:
		return strconv.FormatInt(h/24, 10) + "d " + two(h%24) + "h " + two(m) + "m"
	case h > 0:
		return strconv.FormatInt(h, 10) + "h " + two(m) + "m " + two(s) + "s"
	case m > 0:
		return strconv.FormatInt(m, 10) + "m " + two(s) + "s"
	}
	return strconv.FormatInt(s, 10) + "s"
}

func two(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
