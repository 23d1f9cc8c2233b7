// Package twilsock reads and writes twilsock, the WebSocket protocol that
// Twilio's Conversations and Sync SDKs use to reach Twilio: one frame per
// WebSocket message, "TWILSOCK V3.0 <header length>\r\n<JSON header>\r\n<body>",
// the header's methods, its status codes and the close statuses the client
// acts on.
//
// The facts come from the published source of the twilsock npm package,
// version 1.0.2 (MIT), as bundled by @twilio/conversations 3.0.1 and
// twilio-sync 4.0.1: builds/lib.js, its Parser (framing), its message
// classes (Init, Update, Message, Reply, Close, Telemetry), TwilsockChannel
// (how the client reads reply, client_update and close) and PacketInterface
// (request ids and replies). The access-token error codes are Twilio's
// public ones as listed in @twilio/voice-sdk's lib/twilio/errors/generated.ts
// (AuthorizationErrors 20101–20107); twilsock itself only tests for 20104.
// docs/twilsock.md shows real frames.
//
// Decoding is strict and bounded: a frame longer than MaxFrameBytes, a
// header longer than MaxHeaderBytes, a length that does not match the
// bytes, a header that is not a JSON object or a method this package does
// not know is refused with an error that says which.
package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Magic starts every frame: protocol name and version, then a space.
const Magic = "TWILSOCK V3.0 "

// Limits of one frame. A client's largest frame is init, whose header
// carries the access token (a few KiB at most) and the client's metadata.
const (
	MaxHeaderBytes = 16 << 10
	MaxFrameBytes  = 64 << 10
	// maxLengthDigits bounds the decimal header length: MaxHeaderBytes
	// has five digits.
	maxLengthDigits = 5
)

// Methods of a frame's header. Client → server: init, update, message,
// close, telemetry.v1 and reply (the client acknowledges every message the
// server sends). Server → client: reply, notification, client_update and
// close. ping is not sent by twilsock 1.0.2; it is known so that a client
// that sends one gets an answer rather than a protocol error.
const (
	MethodInit         = "init"
	MethodUpdate       = "update"
	MethodMessage      = "message"
	MethodClose        = "close"
	MethodPing         = "ping"
	MethodReply        = "reply"
	MethodNotification = "notification"
	MethodClientUpdate = "client_update"
	MethodTelemetry    = "telemetry.v1"
)

// knownMethods are the methods Decode accepts.
var knownMethods = map[string]bool{
	MethodInit: true, MethodUpdate: true, MethodMessage: true, MethodClose: true,
	MethodPing: true, MethodReply: true, MethodNotification: true,
	MethodClientUpdate: true, MethodTelemetry: true,
}

// ClientUpdateTokenAboutToExpire is the client_update_type that makes the
// client emit tokenAboutToExpire; there is no timer in the client.
const ClientUpdateTokenAboutToExpire = "token_about_to_expire"

// Status codes of a reply's or a close's status. A reply outside 200–299
// rejects the client's request; to init or update, 401 and 403 are
// terminal (the client stops retrying), and with error code
// ErrorTokenExpired the client emits tokenExpired. A close with 410 means
// the token expired: the client emits tokenExpired and stays offline until
// it is given a new token. 308 tells it to reconnect (offload), 406 and
// 417 are protocol errors, 401 an authentication failure.
const (
	StatusOK             = 200
	StatusOffload        = 308
	StatusUnauthorized   = 401
	StatusForbidden      = 403
	StatusNotAcceptable  = 406
	StatusTokenExpired   = 410
	StatusProtocolError  = 417
	StatusTooManyRequest = 429
	StatusNotImplemented = 501
)

// Twilio's public error codes for access tokens (status.errorCode).
const (
	ErrorTokenInvalid          = 20101 // AccessTokenInvalid: could not be validated
	ErrorTokenIssuerInvalid    = 20103 // AccessTokenIssuerInvalid: iss or sub not accepted
	ErrorTokenExpired          = 20104 // AccessTokenExpired: the client emits tokenExpired
	ErrorTokenNotYetValid      = 20105 // AccessTokenNotYetValid: nbf in the future
	ErrorTokenGrantsInvalid    = 20106 // AccessTokenGrantsInvalid: no grant for the product
	ErrorTokenSignatureInvalid = 20107 // AccessTokenSignatureInvalid
)

// Header is a frame's JSON header. Only the fields of the methods above
// are named; a field the client adds in a later version is ignored, as the
// client ignores fields it does not know.
type Header struct {
	Method      string `json:"method"`
	ID          string `json:"id,omitempty"`
	PayloadSize int    `json:"payload_size"`
	PayloadType string `json:"payload_type,omitempty"`

	// init and update.
	Token             string          `json:"token,omitempty"`
	ContinuationToken *string         `json:"continuation_token,omitempty"`
	Metadata          json.RawMessage `json:"metadata,omitempty"`
	Registrations     json.RawMessage `json:"registrations,omitempty"`
	Tweaks            json.RawMessage `json:"tweaks,omitempty"`
	Capabilities      []string        `json:"capabilities,omitempty"`

	// message (an upstream request through twilsock).
	ActiveGrant string       `json:"active_grant,omitempty"`
	HTTPRequest *HTTPRequest `json:"http_request,omitempty"`

	// reply and close.
	Status *Status `json:"status,omitempty"`
	// reply to a message: the upstream answer's status and headers.
	HTTPStatus  *HTTPStatus       `json:"http_status,omitempty"`
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`

	// client_update and notification.
	ClientUpdateType string `json:"client_update_type,omitempty"`
	MessageType      string `json:"message_type,omitempty"`
}

// Status is a reply's or a close's outcome.
type Status struct {
	Code        int    `json:"code"`
	Status      string `json:"status"`
	ErrorCode   int    `json:"errorCode,omitempty"`
	Description string `json:"description,omitempty"`
}

// HTTPRequest is the request a message frame carries to a Twilio service.
type HTTPRequest struct {
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Params  json.RawMessage   `json:"params,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// HTTPStatus is an upstream answer's HTTP status, in a reply to a message.
type HTTPStatus struct {
	Code   int    `json:"code"`
	Status string `json:"status"`
}

// Frame is one decoded frame.
type Frame struct {
	Header Header
	// Body is the payload (payload_size bytes); nil when empty. It aliases
	// the decoded message.
	Body []byte
}

// Errors returned by Decode, checked with errors.Is; each is wrapped with
// what exactly was wrong.
var (
	ErrTooLarge      = errors.New("twilsock frame too large")
	ErrBadMagic      = errors.New(`twilsock frame does not start with "TWILSOCK V3.0 "`)
	ErrBadLength     = errors.New("twilsock header length is wrong")
	ErrBadHeader     = errors.New("twilsock header is not a JSON object")
	ErrUnknownMethod = errors.New("twilsock method unknown")
	ErrBadPayload    = errors.New("twilsock payload does not match payload_size")
)

// Decode reads one frame (one WebSocket message).
func Decode(data []byte) (Frame, error) {
	if len(data) > MaxFrameBytes {
		return Frame{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxFrameBytes)
	}
	rest, ok := bytes.CutPrefix(data, []byte(Magic))
	if !ok {
		return Frame{}, fmt.Errorf("%w: got %q", ErrBadMagic, head(data))
	}
	digits, rest, ok := bytes.Cut(rest, []byte("\r\n"))
	if !ok || len(digits) == 0 || len(digits) > maxLengthDigits || !allDigits(digits) {
		return Frame{}, fmt.Errorf("%w: want 1 to %d decimal digits then CRLF after the magic, got %q", ErrBadLength, maxLengthDigits, head(digits))
	}
	n, _ := strconv.Atoi(string(digits)) // at most five digits: cannot fail
	if n > MaxHeaderBytes {
		return Frame{}, fmt.Errorf("%w: header of %d bytes, the limit is %d", ErrTooLarge, n, MaxHeaderBytes)
	}
	if n > len(rest) {
		return Frame{}, fmt.Errorf("%w: says %d bytes, %d follow", ErrBadLength, n, len(rest))
	}
	raw, rest := rest[:n], rest[n:]
	body, ok := bytes.CutPrefix(rest, []byte("\r\n"))
	if !ok {
		return Frame{}, fmt.Errorf("%w: the %d header bytes are not followed by CRLF", ErrBadLength, n)
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return Frame{}, fmt.Errorf("%w: starts with %q", ErrBadHeader, head(raw))
	}
	var h Header
	if err := json.Unmarshal(raw, &h); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrBadHeader, err)
	}
	if h.Method == "" {
		return Frame{}, fmt.Errorf(`%w: the header has no "method"`, ErrUnknownMethod)
	}
	if !knownMethods[h.Method] {
		return Frame{}, fmt.Errorf("%w: %q (known: init, update, message, close, ping, reply, notification, client_update, telemetry.v1)", ErrUnknownMethod, head([]byte(h.Method)))
	}
	if h.PayloadSize != len(body) {
		return Frame{}, fmt.Errorf("%w: payload_size is %d, %d bytes follow the header", ErrBadPayload, h.PayloadSize, len(body))
	}
	if len(body) == 0 {
		body = nil
	}
	return Frame{Header: h, Body: body}, nil
}

// Encode writes one frame; it sets h.PayloadSize from body.
func Encode(h Header, body []byte) ([]byte, error) {
	h.PayloadSize = len(body)
	raw, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("twilsock: encoding the header: %w", err)
	}
	b := make([]byte, 0, len(Magic)+maxLengthDigits+4+len(raw)+len(body))
	b = append(b, Magic...)
	b = strconv.AppendInt(b, int64(len(raw)), 10)
	b = append(b, "\r\n"...)
	b = append(b, raw...)
	b = append(b, "\r\n"...)
	b = append(b, body...)
	return b, nil
}

// Reply returns the header of a reply to the request with id.
func Reply(id string, code int, status string) Header {
	return Header{Method: MethodReply, ID: id, PayloadType: "application/json", Status: &Status{Code: code, Status: status}}
}

// allDigits reports whether b holds only ASCII decimal digits.
func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// head returns the start of b for an error message, so that an error never
// repeats a whole frame (which may carry a token).
func head(b []byte) string {
	const max = 24
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
