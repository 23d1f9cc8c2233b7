// Package protocol defines the JSON messages exchanged over tokenlab's
// WebSocket (GET /ws). docs/protocol.md documents every message with an
// example; a test round-trips those examples through these types.
//
// Every message is one JSON object in one text frame, with a "type" field.
// Times are unix milliseconds (…_ms) or unix seconds (exp), as named.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Message types sent by the server.
const (
	TypeHello    = "hello"    // first message on every connection
	TypeExpiring = "expiring" // the current token expires within the lead time
	TypeExpired  = "expired"  // the current token expired and was not renewed
	TypeToken    = "token"    // a new token for the session (any renewal, any tab)
	TypeRevoked  = "revoked"  // the session ended; a close frame follows
	TypeError    = "error"    // a request failed; the connection stays open
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
// fields documented beside them and leaves the rest empty.
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
	// "session_expired" (revoked).
	Reason string `json:"reason,omitempty"`

	// Code and Text describe an error.
	Code string `json:"code,omitempty"`
	Text string `json:"message,omitempty"`
}

// ErrBadMessage is wrapped by every error Decode returns.
var ErrBadMessage = errors.New("bad message")

// Decode parses and validates one message, refusing unknown fields,
// unknown types and missing required fields with an error that says which.
func Decode(data []byte) (Message, error) {
	var m Message
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD; a text
	// frame must be UTF-8 (RFC 6455), so such a frame is refused instead.
	if !utf8.Valid(data) {
		return Message{}, fmt.Errorf("%w: the frame is not valid UTF-8", ErrBadMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %s", ErrBadMessage, describe(err))
	}
	// dec.More would miss a stray "}" or "]": only the end may follow.
	if _, err := dec.Token(); err != io.EOF {
		return Message{}, fmt.Errorf("%w: more than one JSON value in the frame", ErrBadMessage)
	}
	if err := exactKeys(data); err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Validate checks that the message's type is known and that the fields
// its type requires are present.
func (m Message) Validate() error {
	missing := func(field string) error {
		return fmt.Errorf("%w: %q message needs %q", ErrBadMessage, m.Type, field)
	}
	switch m.Type {
	case "":
		return fmt.Errorf("%w: the \"type\" field is missing", ErrBadMessage)
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
	default:
		return fmt.Errorf("%w: unknown type %q", ErrBadMessage, m.Type)
	}
	return nil
}

// Encode marshals a message; it never fails for a Message.
func Encode(m Message) []byte {
	b, _ := json.Marshal(m)
	return b
}

// fields are the JSON keys of Message, spelled exactly.
var fields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Message]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// exactKeys refuses a key that is not spelled exactly as documented.
// encoding/json matches keys case-insensitively (and with Unicode
// folding), so without this {"TYPE":"ping"} would pass, and in
// {"type":"ping","tYpe":"renew"} the folded key would win. data is known
// to be one JSON object.
func exactKeys(data []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("%w: %s", ErrBadMessage, describe(err))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if !fields[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	for f := range fields {
		if strings.EqualFold(f, keys[0]) {
			return fmt.Errorf("%w: unknown field %+q: keys are case-sensitive, write %q", ErrBadMessage, keys[0], f)
		}
	}
	return fmt.Errorf("%w: unknown field %+q", ErrBadMessage, keys[0])
}

func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q has the wrong type (%s)", typeErr.Field, typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return "not valid JSON"
	}
	return err.Error()
}
