package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// encoding/json matches object keys to struct fields case-insensitively, so
// {"EXP": 1} would fill Claims.Exp and {"video": {"Room": "x"}} would pass
// a strict parse. Twilio's services read keys exactly as spelled; a key they
// would ignore must be ignored (or reported) here too. exactKeys runs before
// every struct decode in this package to keep that promise.

// exactKeys returns data with every object key that does not spell a JSON
// field of t exactly removed, at every level where t describes a struct, and
// one *FieldError (wrapping ErrUnknownField) per removed key, named from
// path. Values that are not objects are returned unchanged so that
// encoding/json reports their type. Types with their own UnmarshalJSON are
// left to it.
func exactKeys(data []byte, t reflect.Type, path string) ([]byte, []*FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return data, nil
	}
	fields := jsonFields(t)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var problems []*FieldError
	changed := false
	for _, k := range keys {
		field := join(path, k)
		ft, ok := fields[k]
		if !ok {
			problems = append(problems, &FieldError{Field: field, Problem: unknownFieldProblem(path, k, fields), Err: ErrUnknownField})
			delete(obj, k)
			changed = true
			continue
		}
		sub, p := exactKeys(obj[k], ft, field)
		problems = append(problems, p...)
		if !bytes.Equal(sub, obj[k]) {
			obj[k] = sub
			changed = true
		}
	}
	if !changed {
		return data, problems
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return data, problems
	}
	return out, problems
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps the JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func unknownFieldProblem(path, key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if fold(n) == fold(key) {
			return "is not a known field: keys are case-sensitive snake_case, write " + strconv.Quote(n)
		}
	}
	if path == "" {
		return "is not a known field (known: " + strings.Join(names, ", ") + ")"
	}
	return "is not a known field (" + path + " has: " + strings.Join(names, ", ") + ")"
}

// fold reduces a key to what differs between serviceSid, ServiceSID and
// service_sid: nothing.
func fold(key string) string {
	// A loop rather than a strings.Replacer, which would add ~15 KB to the
	// page's program.
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '_' && key[i] != '-' {
			b = append(b, key[i])
		}
	}
	return strings.ToLower(string(b))
}

func join(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

// unmarshalExact decodes data into v (a pointer) reading only exactly
// spelled keys. Type errors name their field relative to v, as
// encoding/json does, so that an enclosing decode can prefix its own path.
func unmarshalExact(data []byte, v any) error {
	data, _ = exactKeys(data, reflect.TypeOf(v).Elem(), "")
	return json.Unmarshal(data, v)
}

// prefixField puts prefix in front of the field a json type error names.
func prefixField(prefix string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		typeErr.Field = join(prefix, typeErr.Field)
	}
	return err
}

func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }
