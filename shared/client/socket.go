package client

import (
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// Pings keep the clock offset fresh and find a connection that died
// without a close (a laptop that slept, a dropped route), which a browser
// would otherwise report only minutes later.
const (
	pingEvery = 30 * time.Second
	pongWait  = 10 * time.Second
)

// dial opens the socket if signed in and not already connecting.
func (c *Client) dial() {
	if c.tok == nil || c.ws != nil {
		return
	}
	if c.reconnectTimer != nil {
		c.reconnectTimer.Stop()
		c.reconnectTimer = nil
	}
	c.wsGen++
	gen := c.wsGen
	c.wsDialed = time.Now()
	var helloSeen bool
	c.ws = c.tr.Dial(
		func(data string) {
			c.Post(func() {
				if gen != c.wsGen {
					return
				}
				m, err := protocol.Decode([]byte(data))
				if err != nil {
					c.fail("bad_message", "the server sent a message the page does not understand: "+err.Error(), "")
					return
				}
				if m.Type == protocol.TypeHello {
					helloSeen = true
				}
				c.message(m)
			})
		},
		func(code int, reason string) {
			c.Post(func() {
				if gen != c.wsGen {
					return
				}
				c.closed(code, reason, helloSeen)
			})
		})
	c.publish()
}

func (c *Client) stopSocket() {
	c.wsGen++ // callbacks of the old socket are ignored from now on
	if c.ws != nil {
		c.ws.Close(1000, "signed out")
		c.ws = nil
	}
	if c.reconnectTimer != nil {
		c.reconnectTimer.Stop()
		c.reconnectTimer = nil
	}
	clear(c.pings)
	c.sdk = nil
}

func (c *Client) message(m protocol.Message) {
	now := time.Now()
	switch m.Type {
	case protocol.TypeHello:
		c.sdk = nil // the server tells the current list again
		c.clock.observe(c.wsDialed, now, time.UnixMilli(m.ServerTimeMS), time.Millisecond)
		c.connected = true
		c.reconnectTry = 0
		if c.everConnected {
			c.event("reconnected")
		} else {
			c.event("connected")
		}
		c.note(Note{Kind: NoteConnected, Reconnect: c.everConnected, Identity: m.Identity, JTI: m.JTI, Exp: m.Exp,
			Lead: time.Duration(m.LeadMS) * time.Millisecond, Offset: time.UnixMilli(m.ServerTimeMS).Sub(now)})
		c.everConnected = true
		c.ping() // a round trip measures the offset better than hello
		c.keepPinging(c.wsGen)
		if c.tok != nil && m.JTI != "" && m.JTI == c.tok.Claims.JTI && m.LeadMS > 0 {
			c.lead = time.Duration(m.LeadMS) * time.Millisecond
			c.sched.Arm(c.exp, c.lead)
		}
		switch {
		case c.tok != nil && m.JTI != "" && m.JTI != c.tok.Claims.JTI && m.Exp > c.tok.Claims.Exp:
			// Another tab renewed while this one was away: fetch that token.
			c.renew("reconnect (newer token)")
		case c.tok != nil && m.JTI == "" && c.renewUnknown:
			// The server lost the session's token (it restarted) and can
			// warn only about tokens it knows: a new one brings its
			// warnings back.
			c.renew("reconnect")
		default:
			c.renewIfNear("reconnect")
		}
	case protocol.TypeSDK:
		c.sdkChanged(m)
	case protocol.TypePong:
		if sent, ok := c.pings[m.ID]; ok {
			delete(c.pings, m.ID)
			c.clock.observe(sent, now, time.UnixMilli(m.ServerTimeMS), time.Millisecond)
		}
	case protocol.TypeExpiring:
		c.event("warning received" + from(m.Reason) + ": expires in " + Duration(time.Unix(m.Exp, 0).Sub(c.clock.now())+999*time.Millisecond))
		c.note(Note{Kind: NoteExpiring, JTI: m.JTI, Exp: m.Exp, Ignored: c.ignoreWarnings, Reason: m.Reason,
			Left: time.Unix(m.Exp, 0).Sub(time.UnixMilli(m.ServerTimeMS))})
		if c.ignoreWarnings {
			return
		}
		if c.tok != nil && m.JTI == c.tok.Claims.JTI {
			if m.LeadMS > 0 {
				c.lead = time.Duration(m.LeadMS) * time.Millisecond
			}
			c.due = true
			c.renew("server warning")
		}
	case protocol.TypeExpired:
		c.event("the server says the token expired" + from(m.Reason))
		c.note(Note{Kind: NoteExpired, JTI: m.JTI, Exp: m.Exp, Reason: m.Reason})
		if c.tok != nil && m.JTI == c.tok.Claims.JTI {
			c.due = true
			c.renew("server: expired")
		}
	case protocol.TypeToken:
		trigger, ours := "pushed by the server", m.ID != "" && m.ID == c.renewID
		if ours {
			trigger = c.renewTrigger
		}
		c.adoptFrom(m.Token, trigger, m.Reason, m.LeadMS, ours)
	case protocol.TypeRevoked:
		c.note(Note{Kind: NoteRevoked, Reason: m.Reason})
		c.signOut("revoked ("+m.Reason+"): sign in again", m.Reason)
	case protocol.TypeError:
		if m.Code == protocol.ErrCodeSessionGone {
			c.signOut("session ended: sign in again", "session_gone")
			return
		}
		if m.ID != "" && m.ID == c.renewID {
			c.renewFailed(m.Text)
			return
		}
		c.fail(m.Code, m.Text, "")
	}
	c.publish()
}

func (c *Client) ping() {
	id := c.nextID("ping-")
	c.pings[id] = time.Now()
	if !c.ws.Send(string(protocol.Encode(protocol.Message{Type: protocol.TypePing, ID: id}))) {
		delete(c.pings, id)
		return
	}
	gen := c.wsGen
	time.AfterFunc(pongWait, func() {
		c.Post(func() {
			if _, waiting := c.pings[id]; waiting && gen == c.wsGen && c.ws != nil {
				// A dead connection may never finish its close handshake:
				// give up on it now (its late close event is ignored) and
				// reconnect.
				dead := c.ws
				c.wsGen++
				dead.Close(4000, "no answer to ping")
				c.closed(4000, "no answer to ping", true)
			}
		})
	})
}

// keepPinging pings every pingEvery while socket generation gen is up.
func (c *Client) keepPinging(gen int) {
	time.AfterFunc(pingEvery, func() {
		c.Post(func() {
			if gen == c.wsGen && c.connected {
				c.ping()
				c.keepPinging(gen)
			}
		})
	})
}

// closed handles the end of the socket: terminal codes sign out, anything
// else reconnects with backoff.
func (c *Client) closed(code int, reason string, helloSeen bool) {
	c.ws = nil
	wasConnected := c.connected
	c.connected = false
	clear(c.pings)
	if protocol.Terminal(code) {
		text := "session ended: sign in again"
		if code == protocol.CloseRevoked {
			text = "revoked: sign in again"
		}
		c.signOut(text, "close_"+strconv.Itoa(code))
		return
	}
	if c.tok == nil {
		return
	}
	if wasConnected {
		c.event("disconnected (" + strconv.Itoa(code) + closeReason(reason) + ")")
		c.note(Note{Kind: NoteDisconnected, Code: code, Reason: reason})
	}
	if !helloSeen {
		// The upgrade was refused or the server is down. If the session is
		// gone the refresh answers 401 and the client signs out instead of
		// knocking forever; if the token is near expiry it renews too.
		c.checkSession()
	}
	c.scheduleReconnect(code, reason)
	c.publish()
}

func closeReason(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// checkSession renews over HTTP after a failed connection when the token
// is near expiry, or every few failures otherwise, so a session that ended
// while the client was away is noticed (401) and never retried forever.
func (c *Client) checkSession() {
	if c.renewing {
		return
	}
	if renew.Near(c.clock.now(), c.exp, c.lead) || c.reconnectTry%3 == 0 {
		c.renewing, c.renewTrigger = true, "reconnect"
		c.renewHTTP()
	}
}

func (c *Client) scheduleReconnect(code int, reason string) {
	delay := renew.ReconnectBackoff.Delay(c.reconnectTry, c.rnd)
	c.reconnectTry++
	if c.reconnectTimer != nil {
		c.reconnectTimer.Stop()
	}
	c.note(Note{Kind: NoteReconnecting, Code: code, Reason: reason, Retry: delay})
	c.reconnectTimer = time.AfterFunc(delay, func() { c.Post(c.dial) })
}
