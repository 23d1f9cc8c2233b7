package sdkconn

import "time"

// The lab reaches the SDK connections of an identity, so that a fault
// ordered for a session (server/hub's lab.go) shows in the user's app as
// well as in tokenlab's page: the SDKs' sockets are not tied to a session,
// only to the token's identity.

// Fault is a lab action on SDK connections.
type Fault int

// The faults the SDK endpoints act on.
const (
	// FaultExpire treats the connection's token as expired now: twilsock
	// closes with 410 (tokenExpired), Voice sends 31205 and offline.
	FaultExpire Fault = iota + 1
	// FaultWarn sends the warning now (twilsock's tokenAboutToExpire;
	// Voice has none: the Device times its warning itself).
	FaultWarn
	// FaultRevoke ends what the token allowed, as FaultExpire does: the
	// SDKs know no other end of a token.
	FaultRevoke
	// FaultDrop closes the connection with a chosen code (1006: cut
	// without a close frame); the SDK reconnects.
	FaultDrop
)

// closeAbrupt is the close code a cut connection shows its peer.
const closeAbrupt = 1006

// labConn is a connection the lab can reach.
type labConn interface {
	sock() *socket
	labIdentity() string
	lifecycle() *Lifecycle
	token() currentToken
}

func (c *conn) labIdentity() string   { return c.identity() }
func (c *conn) lifecycle() *Lifecycle { return c.life }
func (c *conn) token() currentToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok
}
func (c *voiceConn) token() currentToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok
}
func (c *voiceConn) labIdentity() string { return c.admitted() }
func (c *voiceConn) lifecycle() *Lifecycle {
	return c.life
}

// Lab applies f to the twilsock connections of identity and returns how
// many it reached; code is FaultDrop's close code.
func (e *Endpoint) Lab(identity string, f Fault, code int) int { return e.pool.lab(identity, f, code) }

// Lab applies f to the Voice signaling connections of identity.
func (e *VoiceEndpoint) Lab(identity string, f Fault, code int) int {
	return e.pool.lab(identity, f, code)
}

func (p *pool) lab(identity string, f Fault, code int) int {
	if identity == "" {
		return 0
	}
	p.mu.Lock()
	var hit []labConn
	for c := range p.conns {
		// A connection already closing (its reader not yet done) is not
		// counted: nothing more reaches it.
		if lc, ok := c.(labConn); ok && lc.labIdentity() == identity && !lc.sock().closing() {
			hit = append(hit, lc)
		}
	}
	p.mu.Unlock()
	now := time.Now()
	for _, c := range hit {
		switch f {
		case FaultExpire, FaultRevoke:
			p.ended.add(c.token(), now)
			c.lifecycle().ExpireNow()
		case FaultWarn:
			if vc, ok := c.(*voiceConn); ok {
				vc.warnNow() // a Device times its warning from connected
				continue
			}
			c.lifecycle().WarnNow()
		case FaultDrop:
			c.lifecycle().Stop()
			s := c.sock()
			if code == closeAbrupt {
				s.ws.NetConn().Close() // first, so that no close frame goes out
				s.shut(0, "")
			} else {
				s.shut(code, "dropped by the lab")
			}
		}
	}
	return len(hit)
}
