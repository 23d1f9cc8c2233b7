package client

import (
	"time"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// SDKConn is a Twilio SDK connection (twilsock or Voice signaling) whose
// token is for the session's identity, as the server last described it in
// an "sdk" message.
type SDKConn struct {
	ID        string
	Product   string // conversations, sync, voice
	Identity  string
	Exp       int64  // the token's, unix seconds; 0 when refused at connect
	Event     string // protocol.SDKConnected…
	ErrorCode int    // Twilio's, with protocol.SDKRefused
	EventAt   time.Time
	State     string // protocol.SDKOpen or SDKClosed
}

// Closed reports whether the connection has ended.
func (s SDKConn) Closed() bool { return s.State == protocol.SDKClosed }

// NoteSDK says an SDK connection changed; Note.SDK is its new state.
const NoteSDK Kind = "sdk"

// maxSDKConns bounds the connections the client keeps: the server tells
// a new tab of 8; when live changes add more, the oldest closed one goes.
const maxSDKConns = 16

// sdkChanged records the connection an "sdk" message describes.
func (c *Client) sdkChanged(m protocol.Message) {
	s := SDKConn{ID: m.SDKID, Product: m.Product, Identity: m.Identity, Exp: m.Exp, Event: m.Event,
		ErrorCode: int(m.ErrorCode), EventAt: time.UnixMilli(m.EventMS), State: m.State}
	found := false
	for i := range c.sdk {
		if c.sdk[i].ID == s.ID {
			c.sdk[i], found = s, true
		}
	}
	if !found {
		c.sdk = append(c.sdk, s)
	}
	if len(c.sdk) > maxSDKConns {
		out := 0 // the oldest closed one, else the oldest
		for i := range c.sdk {
			if c.sdk[i].Closed() {
				out = i
				break
			}
		}
		c.sdk = append(c.sdk[:out], c.sdk[out+1:]...)
	}
	c.note(Note{Kind: NoteSDK, SDK: s})
}

// sdkCopy is the list for a Snapshot, which other goroutines read while
// the loop changes c.sdk. A plain copy, not slices.Clone: that one cost
// the page's program about 50 KB (measured with GOOS=js).
func (c *Client) sdkCopy() []SDKConn {
	if len(c.sdk) == 0 {
		return nil
	}
	out := make([]SDKConn, len(c.sdk))
	copy(out, c.sdk)
	return out
}
