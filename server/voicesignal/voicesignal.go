// Package voicesignal reads and writes Voice signaling, the WebSocket
// protocol ("PStream", version 1.6) that Twilio's Voice JavaScript SDK
// speaks with its signaling gateway at wss://<chunderw host>/signal: one
// JSON message {type, version, payload} per WebSocket text message, and a
// lone "\n" as the heartbeat that each side echoes.
//
// The facts come from the published source of @twilio/voice-sdk 2.18.5
// (Apache-2.0): lib/twilio/pstream.ts (the messages the client sends, and
// that it emits every server message's type as an event),
// lib/twilio/wstransport.ts (the heartbeat, and the 15 s of silence after
// which the client reconnects), lib/twilio/device.ts (how the Device reads
// connected, ready, offline, error and invite) and lib/twilio/errors (the
// signaling codes 31204 and 31205, which the Device reports as
// AccessTokenInvalid 20101 and AccessTokenExpired 20104). docs/voice.md
// shows real messages.
//
// Decoding is strict and bounded: a message longer than MaxMessageBytes,
// one that is not a JSON object, or one whose type this package does not
// know is refused with an error that says which.
package voicesignal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the PStream version the SDK puts in every message.
const Version = "1.6"

// Heartbeat is the whole of a heartbeat message. The server sends it
// periodically; the client answers each with the same, and reconnects
// when it has heard nothing for 15 s.
const Heartbeat = "\n"

// MaxMessageBytes bounds one message. The client's largest are listen
// (the access token and browser information, a few KiB) and invite (an
// SDP offer, under 10 KiB from a browser).
const MaxMessageBytes = 64 << 10

// Message types. Client → server: listen (the token, first on every
// connection and again at each updateToken), register (presence: audio
// true registers for incoming calls, false unregisters), and the call
// messages invite, answer, dtmf, hangup, reject, reinvite, message.
// Server → client: connected (the token's identity and remaining ttl),
// ready (registered), offline (not registered), error, close (the client
// destroys its stream and does not reconnect), and hangup for a call.
const (
	TypeListen    = "listen"
	TypeRegister  = "register"
	TypeInvite    = "invite"
	TypeAnswer    = "answer"
	TypeDTMF      = "dtmf"
	TypeHangup    = "hangup"
	TypeReject    = "reject"
	TypeReinvite  = "reinvite"
	TypeMessage   = "message"
	TypeConnected = "connected"
	TypeReady     = "ready"
	TypeOffline   = "offline"
	TypeError     = "error"
	TypeClose     = "close"
)

// knownTypes are the types Decode accepts.
var knownTypes = map[string]bool{
	TypeListen: true, TypeRegister: true, TypeInvite: true, TypeAnswer: true,
	TypeDTMF: true, TypeHangup: true, TypeReject: true, TypeReinvite: true,
	TypeMessage: true, TypeConnected: true, TypeReady: true, TypeOffline: true,
	TypeError: true, TypeClose: true,
}

// Signaling error codes (error.code of an error or hangup payload) and the
// public codes the SDK turns them into.
const (
	// CodeTokenInvalid: the token could not be accepted. The Device emits
	// error with AccessTokenInvalid, CodeAccessTokenInvalid.
	CodeTokenInvalid = 31204
	// CodeTokenExpired: the token has expired. The Device stops sending
	// register and emits error with AccessTokenExpired,
	// CodeAccessTokenExpired.
	CodeTokenExpired = 31205
	// CodeConnectionError is a call's failure; the Call emits error with
	// this code and disconnects.
	CodeConnectionError = 31005

	CodeAccessTokenInvalid = 20101
	CodeAccessTokenExpired = 20104
)

// Message is one decoded message. Payload is left raw: each type has its
// own shape, read with the payload types below.
type Message struct {
	Type    string          `json:"type"`
	Version string          `json:"version,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Listen is the payload of listen.
type Listen struct {
	Token            string          `json:"token"`
	BrowserInfo      json.RawMessage `json:"browserinfo,omitempty"`
	ReconnectTimeout int             `json:"reconnectTimeout,omitempty"`
}

// Register is the payload of register.
type Register struct {
	Media struct {
		Audio bool `json:"audio"`
	} `json:"media"`
}

// Call is the part every call message's payload shares.
type Call struct {
	CallSID string `json:"callsid"`
}

// Connected is the payload of connected. The Device arms its
// tokenWillExpire timer from Token.TTL (seconds) on every connected.
type Connected struct {
	Token  *TokenInfo `json:"token,omitempty"`
	Region string     `json:"region,omitempty"`
	Edge   string     `json:"edge,omitempty"`
}

// TokenInfo is what connected says of the token.
type TokenInfo struct {
	Identity string `json:"identity"`
	TTL      int64  `json:"ttl"`
}

// ErrorPayload is the payload of error, and the error of a hangup.
type ErrorPayload struct {
	Error   Error  `json:"error"`
	CallSID string `json:"callsid,omitempty"`
}

// Error is a signaling error.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Hangup is the payload of a server's hangup: the call ends, with Error
// when it failed.
type Hangup struct {
	CallSID string `json:"callsid"`
	Error   *Error `json:"error,omitempty"`
}

// Errors returned by Decode, checked with errors.Is; each is wrapped with
// what exactly was wrong.
var (
	ErrTooLarge    = errors.New("signaling message too large")
	ErrNotJSON     = errors.New("signaling message is not a JSON object")
	ErrUnknownType = errors.New("signaling message type unknown")
	ErrBadPayload  = errors.New("signaling payload does not fit its type")
)

// IsHeartbeat reports whether data is a heartbeat.
func IsHeartbeat(data []byte) bool { return string(data) == Heartbeat }

// Decode reads one message that is not a heartbeat.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxMessageBytes {
		return Message{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxMessageBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Message{}, fmt.Errorf("%w: starts with %q", ErrNotJSON, head(trimmed))
	}
	var m Message
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if m.Type == "" {
		return Message{}, fmt.Errorf(`%w: the message has no "type"`, ErrUnknownType)
	}
	if !knownTypes[m.Type] {
		return Message{}, fmt.Errorf("%w: %q (known: listen, register, invite, answer, dtmf, hangup, reject, reinvite, message, connected, ready, offline, error, close)", ErrUnknownType, head([]byte(m.Type)))
	}
	if p := bytes.TrimSpace(m.Payload); len(p) > 0 && p[0] != '{' && string(p) != "null" {
		return Message{}, fmt.Errorf("%w: the payload of %s is not a JSON object", ErrBadPayload, m.Type)
	}
	return m, nil
}

// PayloadInto decodes m's payload into v (one of the payload types above).
func (m Message) PayloadInto(v any) error {
	if len(m.Payload) == 0 {
		return nil
	}
	if err := json.Unmarshal(m.Payload, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadPayload, m.Type, err)
	}
	return nil
}

// Encode writes one message of type typ with payload (nil for none).
func Encode(typ string, payload any) ([]byte, error) {
	m := Message{Type: typ, Version: Version}
	if payload != nil {
		raw, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("voicesignal: encoding the payload of %s: %w", typ, err)
		}
		m.Payload = raw
	}
	return json.Marshal(m)
}

// head returns the start of b for an error message, so that an error never
// repeats a whole message (which may carry a token).
func head(b []byte) string {
	const max = 24
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
