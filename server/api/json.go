package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/server/jsonkeys"
)

// errEmptyBody is returned by decode for a request with no body at all.
var errEmptyBody = errors.New("empty body")

// decode reads one JSON object from r's body (at most MaxBodyBytes) into a
// T. Unknown fields and wrong types are *Error values naming the field.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return v, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return v, errEmptyBody
	}
	return v, decodeBytes(body, &v)
}

// decodeBytes is decode's strict JSON reading, for bodies already read:
// one JSON object, nothing after it, no key twice in any object, and every
// key spelled exactly as a field of v (encoding/json alone matches keys case-insensitively, so
// {"USERNAME":…} would fill Username, and a folded key could override the
// exact one).
func decodeBytes(body []byte, v any) error {
	if err := duplicateKeyError("", body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// dec.More would miss a stray "}" or "]": only the end may follow.
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Code: CodeBadJSON, Message: "the body holds more than one JSON value: send one object"}
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return &Error{Code: CodeBadJSON, Message: "the body must be a JSON object, not null"}
	}
	return exactKeys(body, v)
}

// exactKeys refuses a top-level key of body that does not spell a JSON
// field of v (a pointer to a struct) exactly. body is one valid object.
func exactKeys(body []byte, v any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return jsonError(err)
	}
	fields := jsonFields(reflect.TypeOf(v).Elem())
	var unknown []string
	for k := range obj {
		if !slices.Contains(fields, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return unknownField(unknown[0], fields)
}

// unknownField is the answer to a key, JSON or form, that is not one of
// fields.
func unknownField(name string, fields []string) *Error {
	name = clip(name)
	msg := fmt.Sprintf("%+q is not a field of this request: check its spelling (see docs/api.md)", name)
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			msg = fmt.Sprintf("%+q is not a field of this request: keys are case-sensitive, write %q", name, f)
		}
	}
	return &Error{Code: CodeUnknownField, Field: name, Message: msg}
}

// clip shortens a key the client wrote, which the answer echoes back, so
// that the answer stays small.
func clip(key string) string {
	const max = 64
	if len(key) <= max {
		return key
	}
	return strings.ToValidUTF8(key[:max], "") + "…"
}

// duplicateField is the answer to a field given twice, at path (as in
// "grants.video.room"): neither value is picked silently, since another
// reader of the same body (a proxy, a log, a WAF) may pick the other.
func duplicateField(path string) *Error {
	return &Error{Code: CodeDuplicateField, Field: path,
		Message: fmt.Sprintf("%+q is given more than once: send each field once", path)}
}

// duplicateKeyError refuses a key that appears twice in one object of
// body, naming its path under prefix ("grants" for a form's grants
// value). body that is not valid JSON passes: the decoder says what is
// wrong with it.
func duplicateKeyError(prefix string, body []byte) error {
	if path, ok := jsonkeys.Duplicate(body); ok {
		return duplicateField(joinPath(prefix, path))
	}
	return nil
}

// joinPath joins a field's parent path and the path below it.
func joinPath(parent, key string) string {
	if parent == "" || strings.HasPrefix(key, "[") {
		return parent + key
	}
	return parent + "." + key
}

// jsonFields lists the JSON names of struct type t's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case !f.IsExported() || name == "-":
			continue
		case name == "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &Error{Code: CodeBadJSON,
			Message: fmt.Sprintf("the body is not valid JSON (at byte %d): send a JSON object", syntax.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Code: CodeBadJSON, Message: "the body is truncated JSON: send a whole JSON object"}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &Error{Code: CodeBadJSON, Message: "the body must be a JSON object, not " + typeErr.Value}
		}
		return &Error{Code: CodeInvalidField, Field: typeErr.Field,
			Message: fmt.Sprintf("%s must be %s, not %s", typeErr.Field, kind(typeErr), typeErr.Value)}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown {
		var name string
		if _, scanErr := fmt.Sscanf(msg[len(unknown):], "%q", &name); scanErr != nil {
			name = msg[len(unknown):]
		}
		return &Error{Code: CodeUnknownField, Field: name,
			Message: fmt.Sprintf("%s is not a field of this request: check its spelling (see docs/api.md)", name)}
	}
	return err
}

func kind(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind().String() {
	case "string":
		return "a string"
	case "int", "int64", "int32":
		return "a whole number"
	case "bool":
		return "true or false"
	}
	return "a " + e.Type.String()
}

// encode writes v as JSON with status.
func encode[T any](w http.ResponseWriter, status int, v T) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// An encoding error here means the client went away; nothing to add.
	_ = json.NewEncoder(w).Encode(v)
}

// mediaType returns the request's media type, "" when none is given.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}
