package protocol

import "github.com/tokenlab/tokenlab/shared/jsonlite"

// The HTTP API's answers, defined once for every side: the server encodes
// them (encoding/json reads the tags), and the page and `tokenlab watch`
// read them. The page reads them with the Parse functions below, without
// reflection (it keeps the wasm small).

// TokenAnswer is the answer to POST /token and POST /token/refresh.
type TokenAnswer struct {
	Token     string `json:"token"`
	Identity  string `json:"identity"`
	JTI       string `json:"jti"`
	ExpiresAt int64  `json:"expires_at"` // unix seconds
	TTL       int64  `json:"ttl"`        // seconds
	// SessionID names the session the token belongs to: the id an
	// operator's /admin/sessions/{id} routes take and the lab answers
	// with. It opens nothing by itself (the cookie does).
	SessionID string `json:"session_id,omitempty"`
}

// VerifyAnswer is the answer to POST /token/verify.
type VerifyAnswer struct {
	// Valid is true when the token is signed with the server's API key.
	Valid bool `json:"valid"`
	// Reason says why, for a person.
	Reason string `json:"reason"`
	// Expired tells whether a genuine token has expired (false otherwise).
	Expired bool `json:"expired"`
}

// ErrorAnswer is the body of every error answer:
// {"error":{"code":"…","message":"…","field":"…"}}.
type ErrorAnswer struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is what went wrong: a stable code, a message for a person,
// and the request field at fault when there is one.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// The Parse functions read through jsonlite bindings: keys spelled exactly
// and each given once, values of the documented types. Keys a reader does
// not know are skipped, so that the server can add some, unless they
// differ from a known one only in case.
var (
	tokenAnswerFields = jsonlite.Binding[TokenAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[TokenAnswer]{
		jsonlite.StringField("token", func(a *TokenAnswer) *string { return &a.Token }),
		jsonlite.StringField("identity", func(a *TokenAnswer) *string { return &a.Identity }),
		jsonlite.StringField("jti", func(a *TokenAnswer) *string { return &a.JTI }),
		jsonlite.IntField("expires_at", func(a *TokenAnswer) *int64 { return &a.ExpiresAt }),
		jsonlite.IntField("ttl", func(a *TokenAnswer) *int64 { return &a.TTL }),
		jsonlite.StringField("session_id", func(a *TokenAnswer) *string { return &a.SessionID }),
	}}
	errorDetailFields = jsonlite.Binding[ErrorDetail]{SkipUnknown: true, Fields: []jsonlite.Field[ErrorDetail]{
		jsonlite.StringField("code", func(e *ErrorDetail) *string { return &e.Code }),
		jsonlite.StringField("message", func(e *ErrorDetail) *string { return &e.Message }),
		jsonlite.StringField("field", func(e *ErrorDetail) *string { return &e.Field }),
	}}
	errorAnswerFields = jsonlite.Binding[ErrorDetail]{SkipUnknown: true, Fields: []jsonlite.Field[ErrorDetail]{
		{Key: "error", Read: errorDetailFields.Read},
	}}
	verifyAnswerFields = jsonlite.Binding[VerifyAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[VerifyAnswer]{
		jsonlite.BoolField("valid", func(a *VerifyAnswer) *bool { return &a.Valid }),
		jsonlite.StringField("reason", func(a *VerifyAnswer) *string { return &a.Reason }),
		jsonlite.BoolField("expired", func(a *VerifyAnswer) *bool { return &a.Expired }),
	}}
)

// readAnswer parses body and binds it to a T; ok is false when body is not
// one JSON object that b reads without a problem.
func readAnswer[T any](b *jsonlite.Binding[T], body []byte) (a T, ok bool) {
	v, err := jsonlite.Parse(body)
	if err != nil || v.Kind != jsonlite.Object {
		return a, false
	}
	return a, b.Read(&a, v, jsonlite.At{}) == nil
}

// ParseTokenAnswer reads a TokenAnswer. ok is false when the body is not
// one or its token is empty.
func ParseTokenAnswer(body []byte) (a TokenAnswer, ok bool) {
	a, ok = readAnswer(&tokenAnswerFields, body)
	return a, ok && a.Token != ""
}

// ParseErrorAnswer reads an ErrorAnswer's detail. ok is false when the
// body is not one or names no code.
func ParseErrorAnswer(body []byte) (e ErrorDetail, ok bool) {
	e, ok = readAnswer(&errorAnswerFields, body)
	return e, ok && e.Code != ""
}

// ParseVerifyAnswer reads a VerifyAnswer. ok is false when the body is not
// one.
func ParseVerifyAnswer(body []byte) (a VerifyAnswer, ok bool) {
	return readAnswer(&verifyAnswerFields, body)
}
