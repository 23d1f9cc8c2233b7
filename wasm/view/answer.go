package view

import "github.com/tokenlab/tokenlab/shared/jsonlite"

// The server's answers are read through jsonlite bindings: keys spelled
// exactly and each given once, values of the documented types. Keys the
// page does not read are skipped, so that the server can add some, unless
// they differ from one it reads only in case.

type tokenAnswer struct{ token string }

type errorAnswer struct{ code, message, field string }

type verifyAnswer struct {
	valid  bool
	reason string
}

var (
	tokenAnswerFields = jsonlite.Binding[tokenAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[tokenAnswer]{
		jsonlite.StringField("token", func(a *tokenAnswer) *string { return &a.token }),
	}}
	errorDetailFields = jsonlite.Binding[errorAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[errorAnswer]{
		jsonlite.StringField("code", func(a *errorAnswer) *string { return &a.code }),
		jsonlite.StringField("message", func(a *errorAnswer) *string { return &a.message }),
		jsonlite.StringField("field", func(a *errorAnswer) *string { return &a.field }),
	}}
	errorAnswerFields = jsonlite.Binding[errorAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[errorAnswer]{
		{Key: "error", Read: errorDetailFields.Read},
	}}
	verifyAnswerFields = jsonlite.Binding[verifyAnswer]{SkipUnknown: true, Fields: []jsonlite.Field[verifyAnswer]{
		jsonlite.BoolField("valid", func(a *verifyAnswer) *bool { return &a.valid }),
		jsonlite.StringField("reason", func(a *verifyAnswer) *string { return &a.reason }),
	}}
)

// read parses body and binds it to a T; ok is false when body is not one
// JSON object that b reads without a problem.
func read[T any](b *jsonlite.Binding[T], body []byte) (a T, ok bool) {
	v, err := jsonlite.Parse(body)
	if err != nil || v.Kind != jsonlite.Object {
		return a, false
	}
	return a, b.Read(&a, v, "") == nil
}

// TokenAnswer returns the token of an answer to POST /token or POST
// /token/refresh ({"token": …}). ok is false when the body is not such an
// answer or its token is empty.
func TokenAnswer(body []byte) (tok string, ok bool) {
	a, ok := read(&tokenAnswerFields, body)
	return a.token, ok && a.token != ""
}

// ErrorAnswer returns the server's error body, {"error": {"code",
// "message", "field"}}. ok is false when the body is not one or names no
// code.
func ErrorAnswer(body []byte) (code, message, fieldName string, ok bool) {
	a, ok := read(&errorAnswerFields, body)
	return a.code, a.message, a.field, ok && a.code != ""
}

// VerifyAnswer reads the answer to POST /token/verify, {"valid": …,
// "reason": …}. ok is false when the body is not such an answer.
func VerifyAnswer(body []byte) (valid bool, reason string, ok bool) {
	a, ok := read(&verifyAnswerFields, body)
	return a.valid, a.reason, ok
}
