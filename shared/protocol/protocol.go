// Package protocol defines the JSON messages exchanged over tokenlab's
// WebSocket (GET /ws). docs/protocol.md documents every message with an
// example; a test round-trips those examples through these types.
//
// Every message is one JSON object in one text frame, with a "type" field.
// Times are unix milliseconds (…_ms) or unix seconds (exp), as named.
package protocol

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// Message types sent by the server.
const (
	TypeHello    = "hello"    // first message on every connection
	TypeExpiring = "expiring" // the current token expires within the lead time
	TypeExpired  = "expired"  // the current token expired and was not renewed
	TypeToken    = "token"    // a new token for the session (any renewal, any tab)
	TypeRevoked  = "revoked"  // the session ended; a close frame follows
	TypeError    = "error"    // a request failed; the connection stays open
	TypeSDK      = "sdk"      // a Twilio SDK connection of the session's identity changed
)

// SDK connection states and events, in "sdk" messages.
const (
	SDKOpen   = "open"
	SDKClosed = "closed"

	SDKConnected = "connected" // the SDK's token was accepted (twilsock init, Voice listen)
	SDKWarned    = "warned"    // tokenAboutToExpire was sent (Voice: the lab's warn now)
	SDKUpdated   = "updated"   // updateToken was accepted; exp is the new token's
	SDKRefused   = "refused"   // a token was refused; error_code is Twilio's
	SDKExpired   = "expired"   // the token expired, or the lab expired or revoked it
	SDKEnded     = "closed"    // the connection closed for another reason
)

// Message types sent by the client.
const (
	TypeRenew = "renew" // ask for a new token on this socket
	TypePing  = "ping"  // ask for the server's time (answered by "pong")
	TypePong  = "pong"  // the server's answer to "ping"
)

// Close codes the server uses besides the standard ones (1001 going away
// on shutdown, 1008 policy violation, 1009 message too big).
const (
	CloseRevoked        = 4001 // the session was revoked or logged out: sign in again
	CloseSessionExpired = 4002 // the session reached its absolute lifetime: sign in again
	CloseTooMany        = 4008 // too many connections for this session or server: retry later
	CloseRateLimited    = 4029 // the client sent messages faster than allowed
)

// MaxCloseReason is the longest reason a close frame can carry: 125 bytes
// of payload minus the 2-byte code (RFC 6455, section 5.5).
const MaxCloseReason = 123

// CloseReason cuts reason to MaxCloseReason bytes.
func CloseReason(reason string) string {
	if len(reason) > MaxCloseReason {
		return reason[:MaxCloseReason]
	}
	return reason
}

// Terminal reports whether a client must not reconnect after this close
// code without signing in again.
func Terminal(code int) bool { return code == CloseRevoked || code == CloseSessionExpired }

// Error codes carried by "error" messages.
const (
	ErrCodeBadMessage  = "bad_message"  // not JSON, unknown type, missing field
	ErrCodeRenewFailed = "renew_failed" // the server could not mint a token
	ErrCodeRateLimited = "rate_limited" // too many messages
	ErrCodeSessionGone = "session_gone" // the session no longer exists
)

// Message is the single envelope for every message; each type uses the
// fields documented beside them and leaves the rest empty. Its json tags
// say how encoding/json would write it; Encode and Decode, which the
// page's program uses without reflection, write and read exactly that.
type Message struct {
	Type string `json:"type"`
	// ID correlates a client request ("renew", "ping") with its answer.
	ID string `json:"id,omitempty"`
	// ServerTimeMS is the server's clock when it sent the message, so the
	// client can measure its offset. Sent on every server message.
	ServerTimeMS int64 `json:"server_time_ms,omitempty"`

	// Token fields: hello, expiring, expired, token.
	Token    string `json:"token,omitempty"` // the JWT itself (token only)
	JTI      string `json:"jti,omitempty"`
	Exp      int64  `json:"exp,omitempty"` // unix seconds
	Identity string `json:"identity,omitempty"`

	// LeadMS is the warning lead in effect for the current token (hello,
	// expiring); SessionExpMS the session's absolute end (hello).
	LeadMS       int64 `json:"lead_ms,omitempty"`
	SessionExpMS int64 `json:"session_exp_ms,omitempty"`

	// Reason says why: "renewed", "sign_in" (token); "logout", "operator",
	// "users_file", "session_expired" (revoked); "lab" (expiring and
	// expired sent early by the lab).
	Reason string `json:"reason,omitempty"`

	// Code and Text describe an error.
	Code string `json:"code,omitempty"`
	Text string `json:"message,omitempty"`

	// SDK connection fields ("sdk", with Identity and Exp): the connection's
	// id on this server, its product (conversations, sync, voice), its last
	// event (SDKConnected…) with Twilio's error code for a refusal, when
	// that event happened, and whether the connection is open.
	SDKID     string `json:"sdk_id,omitempty"`
	Product   string `json:"product,omitempty"`
	Event     string `json:"event,omitempty"`
	ErrorCode int64  `json:"error_code,omitempty"`
	EventMS   int64  `json:"event_ms,omitempty"`
	State     string `json:"state,omitempty"`
}

// ErrBadMessage is wrapped by every error Decode returns.
var ErrBadMessage = errors.New("bad message")

// badMessage is an error that wraps ErrBadMessage and says what was wrong.
type badMessage struct{ problem string }

func (e *badMessage) Error() string { return ErrBadMessage.Error() + ": " + e.problem }
func (e *badMessage) Unwrap() error { return ErrBadMessage }

func bad(problem string) error { return &badMessage{problem} }

// Decode parses and validates one message: one JSON object whose keys are
// Message's, spelled exactly and each given once, of a known type with the
// fields it needs. Errors wrap ErrBadMessage and say what was wrong and
// where.
func Decode(data []byte) (Message, error) {
	// jsonlite would turn invalid UTF-8 into U+FFFD; a text frame must be
	// UTF-8 (RFC 6455), so such a frame is refused instead.
	if !utf8.Valid(data) {
		return Message{}, bad("the frame is not valid UTF-8")
	}
	v, err := jsonlite.Parse(data)
	switch {
	case len(data) == 0:
		return Message{}, bad("the frame is empty: send one JSON object")
	case err != nil:
		return Message{}, bad("the frame is not valid JSON (" + err.Error() + "): send one JSON object")
	}
	var m Message
	if err := messageFields.Read(&m, v, jsonlite.At{}); err != nil {
		return Message{}, bad(err.Error())
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// messageFields binds Message's JSON keys, which its json tags spell too
// (a test holds the two together).
var messageFields = jsonlite.Binding[Message]{Fields: []jsonlite.Field[Message]{
	jsonlite.StringField("type", func(m *Message) *string { return &m.Type }),
	jsonlite.StringField("id", func(m *Message) *string { return &m.ID }),
	jsonlite.IntField("server_time_ms", func(m *Message) *int64 { return &m.ServerTimeMS }),
	jsonlite.StringField("token", func(m *Message) *string { return &m.Token }),
	jsonlite.StringField("jti", func(m *Message) *string { return &m.JTI }),
	jsonlite.IntField("exp", func(m *Message) *int64 { return &m.Exp }),
	jsonlite.StringField("identity", func(m *Message) *string { return &m.Identity }),
	jsonlite.IntField("lead_ms", func(m *Message) *int64 { return &m.LeadMS }),
	jsonlite.IntField("session_exp_ms", func(m *Message) *int64 { return &m.SessionExpMS }),
	jsonlite.StringField("reason", func(m *Message) *string { return &m.Reason }),
	jsonlite.StringField("code", func(m *Message) *string { return &m.Code }),
	jsonlite.StringField("message", func(m *Message) *string { return &m.Text }),
	jsonlite.StringField("sdk_id", func(m *Message) *string { return &m.SDKID }),
	jsonlite.StringField("product", func(m *Message) *string { return &m.Product }),
	jsonlite.StringField("event", func(m *Message) *string { return &m.Event }),
	jsonlite.IntField("error_code", func(m *Message) *int64 { return &m.ErrorCode }),
	jsonlite.IntField("event_ms", func(m *Message) *int64 { return &m.EventMS }),
	jsonlite.StringField("state", func(m *Message) *string { return &m.State }),
}}

// Validate checks that the message's type is known and that the fields
// its type requires are present.
func (m Message) Validate() error {
	missing := func(field string) error {
		return bad(strconv.Quote(m.Type) + " message needs " + strconv.Quote(field))
	}
	switch m.Type {
	case "":
		return bad(`the "type" field is missing`)
	case TypeRenew, TypePing:
		return nil
	case TypeHello, TypePong:
		if m.ServerTimeMS == 0 {
			return missing("server_time_ms")
		}
	case TypeExpiring, TypeExpired:
		if m.JTI == "" {
			return missing("jti")
		}
		if m.Exp == 0 {
			return missing("exp")
		}
	case TypeToken:
		if m.Token == "" {
			return missing("token")
		}
	case TypeRevoked:
		if m.Reason == "" {
			return missing("reason")
		}
	case TypeError:
		if m.Code == "" {
			return missing("code")
		}
	case TypeSDK:
		if m.SDKID == "" {
			return missing("sdk_id")
		}
		if m.Event == "" {
			return missing("event")
		}
	default:
		return bad("unknown type " + strconv.Quote(m.Type))
	}
	return nil
}

// Encode marshals a message; it never fails for a Message. It writes what
// json.Marshal writes (fields in declaration order, empty ones left out,
// strings escaped alike), into one buffer sized up front: the hub encodes
// each push once for every socket of a session.
func Encode(m Message) []byte {
	n := len(`{"type":""}`) + len(m.Type) + len(m.ID) + len(m.Token) + len(m.JTI) +
		len(m.Identity) + len(m.Reason) + len(m.Code) + len(m.Text) +
		len(m.SDKID) + len(m.Product) + len(m.Event) + len(m.State) +
		14*len(`,"":""`) + 6*len(`,"session_exp_ms":-9223372036854775808`)
	return appendMessage(make([]byte, 0, n), m)
}

// appendMessage appends m's JSON to dst: "type" always, the other fields
// when set, in declaration order.
func appendMessage(dst []byte, m Message) []byte {
	o := jsonlite.OpenObject(dst)
	o.String("type", m.Type)
	rest := jsonlite.Binding[Message]{Fields: messageFields.Fields[1:]}
	_ = rest.Append(&o, &m) // strings and integers: nothing fails
	return o.Close()
}
