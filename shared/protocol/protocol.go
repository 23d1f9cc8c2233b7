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
	"strings"
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
	// "users_file", "session_expired" (revoked).
	Reason string `json:"reason,omitempty"`

	// Code and Text describe an error.
	Code string `json:"code,omitempty"`
	Text string `json:"message,omitempty"`
}

// ErrBadMessage is wrapped by every error Decode returns.
var ErrBadMessage = errors.New("bad message")

// badMessage is an error that wraps ErrBadMessage and says what was wrong.
type badMessage struct{ problem string }

func (e *badMessage) Error() string { return ErrBadMessage.Error() + ": " + e.problem }
func (e *badMessage) Unwrap() error { return ErrBadMessage }

func bad(problem string) error { return &badMessage{problem} }

// Decode parses and validates one message, refusing unknown fields,
// unknown types and missing required fields with an error that says which.
//
// It reads a frame as encoding/json's Decoder (with DisallowUnknownFields)
// reads one value into a Message, and reports what that reported, word for
// word: keys matched without regard to case, the first unknown field or
// wrong type in document order, null leaving a field empty. A test keeps
// it to that.
func Decode(data []byte) (Message, error) {
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD; a text
	// frame must be UTF-8 (RFC 6455), so such a frame is refused instead.
	if !utf8.Valid(data) {
		return Message{}, bad("the frame is not valid UTF-8")
	}
	v, more, problem := firstValue(data)
	if problem != "" {
		return Message{}, bad(problem)
	}
	m, problem := decodeMessage(v)
	if problem != "" {
		return Message{}, bad(problem)
	}
	if more {
		return Message{}, bad("more than one JSON value in the frame")
	}
	if err := exactKeys(v); err != nil {
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
		10*len(`,"":""`) + 4*len(`,"session_exp_ms":-9223372036854775808`)
	return appendMessage(make([]byte, 0, n), m)
}

// appendMessage appends m's JSON to dst.
func appendMessage(dst []byte, m Message) []byte {
	dst = append(dst, `{"type":`...)
	dst = jsonlite.AppendString(dst, m.Type)
	dst = appendStringField(dst, `,"id":`, m.ID)
	dst = appendIntField(dst, `,"server_time_ms":`, m.ServerTimeMS)
	dst = appendStringField(dst, `,"token":`, m.Token)
	dst = appendStringField(dst, `,"jti":`, m.JTI)
	dst = appendIntField(dst, `,"exp":`, m.Exp)
	dst = appendStringField(dst, `,"identity":`, m.Identity)
	dst = appendIntField(dst, `,"lead_ms":`, m.LeadMS)
	dst = appendIntField(dst, `,"session_exp_ms":`, m.SessionExpMS)
	dst = appendStringField(dst, `,"reason":`, m.Reason)
	dst = appendStringField(dst, `,"code":`, m.Code)
	dst = appendStringField(dst, `,"message":`, m.Text)
	return append(dst, '}')
}

// appendStringField appends key and s unless s is empty (omitempty).
func appendStringField(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return jsonlite.AppendString(append(dst, key...), s)
}

// appendIntField appends key and n unless n is zero (omitempty).
func appendIntField(dst []byte, key string, n int64) []byte {
	if n == 0 {
		return dst
	}
	return strconv.AppendInt(append(dst, key...), n, 10)
}

// fields are the JSON keys of Message, spelled exactly, in declaration
// order (a test holds them to the struct's tags).
var fields = [...]string{"type", "id", "server_time_ms", "token", "jti", "exp",
	"identity", "lead_ms", "session_exp_ms", "reason", "code", "message"}

// field returns the key of Message that key names: itself when it is one,
// else the one it equals under Unicode case folding, as encoding/json
// matches keys; "" when there is none.
func field(key string) string {
	if isField(key) {
		return key
	}
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			return f
		}
	}
	return ""
}

// firstValue reads the frame's first JSON value as encoding/json's Decoder
// reads it: only that value has to be whole and valid, and more reports
// whether anything but white space follows it. problem is what Decode used
// to say of the Decoder's error: "EOF" when there is no value at all,
// "unexpected EOF" when it is cut short, "not valid JSON" for a syntax
// error within it.
func firstValue(data []byte) (v jsonlite.Value, more bool, problem string) {
	v, err := jsonlite.Parse(data)
	if err == nil {
		return v, false, ""
	}
	start := skipSpace(data)
	if start == len(data) {
		return jsonlite.Value{}, false, "EOF"
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, " after top-level value") {
		if cutShort(data, msg) {
			return jsonlite.Value{}, false, "unexpected EOF"
		}
		return jsonlite.Value{}, false, "not valid JSON"
	}
	// The first value is whole and valid, and something follows it. Of any
	// value but an object, only the kind matters (it is the wrong type),
	// and its first byte tells it.
	if data[start] != '{' {
		return jsonlite.Value{Kind: kindAt(data[start])}, true, ""
	}
	v, err = jsonlite.Parse(data[start:objectEnd(data, start)])
	if err != nil { // not reached: the object was valid within data
		return jsonlite.Value{}, false, "not valid JSON"
	}
	return v, true, ""
}

// cutShort reports whether the syntax error msg that Parse found in data
// is data's end (the Decoder's "unexpected EOF"). json.Valid, and Parse
// with it, name the white space it pretends follows for a value cut short
// inside a number, literal or escape ("invalid character ' ' in numeric
// literal"); an error at the end changes when more input follows, one
// within data does not. NUL is never valid JSON, so it cannot extend the
// value.
func cutShort(data []byte, msg string) bool {
	if msg == "unexpected end of JSON input" {
		return true
	}
	_, err := jsonlite.Parse(append(data[:len(data):len(data)], 0))
	return err == nil || err.Error() != msg
}

// skipSpace returns the index of data's first byte that is not JSON white
// space.
func skipSpace(data []byte) int {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// kindAt returns the kind of the valid JSON value that starts with c.
func kindAt(c byte) jsonlite.Kind {
	switch c {
	case 'n':
		return jsonlite.Null
	case 't', 'f':
		return jsonlite.Bool
	case '"':
		return jsonlite.String
	case '[':
		return jsonlite.Array
	case '{':
		return jsonlite.Object
	}
	return jsonlite.Number
}

// objectEnd returns the end of the object at data[start:], which is known
// to be valid JSON.
func objectEnd(data []byte, start int) int {
	depth := 0
	for i := start; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(data)
}

// decodeMessage reads v into a Message as json.Unmarshal would, and
// returns the problem encoding/json reported first, in document order: an
// unknown key, or a value of the wrong type. null leaves a field as it
// was; a later duplicate key wins.
func decodeMessage(v jsonlite.Value) (m Message, problem string) {
	switch v.Kind {
	case jsonlite.Null:
		return Message{}, ""
	case jsonlite.Object:
	default:
		return Message{}, wrongType("", typeName(v.Kind))
	}
	for _, mem := range v.Members {
		name := field(mem.Key)
		if name == "" {
			if problem == "" {
				problem = "json: unknown field " + strconv.Quote(mem.Key)
			}
			continue
		}
		if p := m.set(name, mem.Value); problem == "" {
			problem = p
		}
	}
	if problem != "" {
		return Message{}, problem
	}
	return m, ""
}

// set stores v in the field with JSON name name, or says why it cannot.
func (m *Message) set(name string, v jsonlite.Value) (problem string) {
	s, n := m.slot(name)
	switch {
	case v.Kind == jsonlite.Null:
	case s != nil && v.Kind == jsonlite.String:
		*s = v.Str
	case n != nil && v.Kind == jsonlite.Number:
		i, ok := v.Int64()
		if !ok {
			return wrongType(name, "number "+string(v.Raw))
		}
		*n = i
	default:
		return wrongType(name, typeName(v.Kind))
	}
	return ""
}

// slot returns the string or the integer field with JSON name name.
func (m *Message) slot(name string) (*string, *int64) {
	switch name {
	case "type":
		return &m.Type, nil
	case "id":
		return &m.ID, nil
	case "server_time_ms":
		return nil, &m.ServerTimeMS
	case "token":
		return &m.Token, nil
	case "jti":
		return &m.JTI, nil
	case "exp":
		return nil, &m.Exp
	case "identity":
		return &m.Identity, nil
	case "lead_ms":
		return nil, &m.LeadMS
	case "session_exp_ms":
		return nil, &m.SessionExpMS
	case "reason":
		return &m.Reason, nil
	case "code":
		return &m.Code, nil
	case "message":
		return &m.Text, nil
	}
	return nil, nil
}

// wrongType words a json.UnmarshalTypeError as Decode always has.
func wrongType(field, value string) string {
	return "field " + strconv.Quote(field) + " has the wrong type (" + value + ")"
}

// typeName names a kind of value as json.UnmarshalTypeError does.
func typeName(k jsonlite.Kind) string {
	if k == jsonlite.Bool {
		return "bool"
	}
	return k.String()
}

// exactKeys refuses a key that is not spelled exactly as documented.
// encoding/json matches keys case-insensitively (and with Unicode
// folding), so without this {"TYPE":"ping"} would pass, and in
// {"type":"ping","tYpe":"renew"} the folded key would win. The first such
// key in byte order is named.
func exactKeys(v jsonlite.Value) error {
	var key string
	found := false
	for _, mem := range v.Members {
		if !isField(mem.Key) && (!found || mem.Key < key) {
			key, found = mem.Key, true
		}
	}
	if !found {
		return nil
	}
	if f := field(key); f != "" {
		return bad("unknown field " + strconv.QuoteToASCII(key) + ": keys are case-sensitive, write " + strconv.Quote(f))
	}
	return bad("unknown field " + strconv.QuoteToASCII(key))
}

func isField(key string) bool {
	for _, f := range fields {
		if key == f {
			return true
		}
	}
	return false
}
