package view

import (
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// The server's answers are read here as json.Unmarshal would read them
// into the small structs the page used to declare, without reflection:
// the same bodies are accepted, with the same values.

// TokenAnswer returns the token of an answer to POST /token or POST
// /token/refresh ({"token": …}). ok is false when the body is not such an
// answer or its token is empty.
func TokenAnswer(body []byte) (tok string, ok bool) {
	v, err := jsonlite.Parse(body)
	if err != nil {
		return "", false
	}
	ok = fill(v, field{"token", jsonlite.String, func(v jsonlite.Value) { tok = v.Str }})
	return tok, ok && tok != ""
}

// ErrorAnswer returns the server's error body, {"error": {"code",
// "message", "field"}}. ok is false when the body is not one or names no
// code.
func ErrorAnswer(body []byte) (code, message, fieldName string, ok bool) {
	v, err := jsonlite.Parse(body)
	if err != nil {
		return "", "", "", false
	}
	inner := []field{
		{"code", jsonlite.String, func(v jsonlite.Value) { code = v.Str }},
		{"message", jsonlite.String, func(v jsonlite.Value) { message = v.Str }},
		{"field", jsonlite.String, func(v jsonlite.Value) { fieldName = v.Str }},
	}
	innerOK := true
	ok = fill(v, field{"error", jsonlite.Object, func(v jsonlite.Value) { innerOK = fill(v, inner...) && innerOK }})
	return code, message, fieldName, ok && innerOK && code != ""
}

// VerifyAnswer reads the answer to POST /token/verify, {"valid": …,
// "reason": …}. ok is false when the body is not such an answer.
func VerifyAnswer(body []byte) (valid bool, reason string, ok bool) {
	v, err := jsonlite.Parse(body)
	if err != nil {
		return false, "", false
	}
	ok = fill(v,
		field{"valid", jsonlite.Bool, func(v jsonlite.Value) { valid = v.True }},
		field{"reason", jsonlite.String, func(v jsonlite.Value) { reason = v.Str }})
	return valid, reason, ok
}

// field is one field of a struct json.Unmarshal would fill: its JSON name,
// the kind of value it takes, and what to do with one.
type field struct {
	name string
	kind jsonlite.Kind
	set  func(jsonlite.Value)
}

// fill applies v to fields as json.Unmarshal applies an object to a struct,
// and reports false where json.Unmarshal would return an error. Members
// are applied in document order, so the last of duplicates wins; a key
// matches a field's name exactly or case-insensitively (no two names here
// fold alike, so which match comes first does not matter); null leaves a
// field as it was; a value of another kind is an error, after which the
// rest is still applied. A null v is no error and sets nothing.
func fill(v jsonlite.Value, fields ...field) bool {
	switch v.Kind {
	case jsonlite.Null:
		return true
	case jsonlite.Object:
	default:
		return false
	}
	ok := true
	for _, m := range v.Members {
		for _, f := range fields {
			if m.Key != f.name && !strings.EqualFold(m.Key, f.name) {
				continue
			}
			switch m.Value.Kind {
			case jsonlite.Null:
			case f.kind:
				f.set(m.Value)
			default:
				ok = false
			}
			break
		}
	}
	return ok
}
