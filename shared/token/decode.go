package token

import (
	"bytes"
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// typeError is a JSON value of the wrong type for a field. Its message is
// the one encoding/json's *UnmarshalTypeError gave when this package
// decoded with it, word for word, so that a caller of json.Unmarshal sees
// no difference.
type typeError struct {
	Value  string // what was found: "string", "number", "number 1.5", "bool", "array", "object"
	Type   string // the Go type of the field: "string", "int64", "token.VideoGrant"…
	Struct string // the Go struct holding the field; "" for a value at the top
	Field  string // the JSON path of the field, dot-separated
	want   string // what the field holds, for a person: "a string", "an object"…
}

func (e *typeError) Error() string {
	if e.Struct != "" || e.Field != "" {
		return "json: cannot unmarshal " + e.Value + " into Go struct field " + e.Struct + "." + e.Field + " of type " + e.Type
	}
	return "json: cannot unmarshal " + e.Value + " into Go value of type " + e.Type
}

// problem says what the field must be and what it was: "must be a string,
// not number", "must be a whole number, not 1.5".
func (e *typeError) problem() string {
	return "must be " + e.want + ", not " + strings.TrimPrefix(e.Value, "number ")
}

// decodable is a pointer to a struct this package decodes by hand.
type decodable interface {
	// slot returns a pointer to the field whose JSON name is key: a
	// *string, *bool, *int64, *map[string]any or *Grants, or a nested for a
	// pointer to another decodable struct; nil for any other key.
	slot(key string) any
}

// nested is a field that points to a decodable struct.
type nested interface {
	open() decodable // the struct, allocated when the pointer is nil
	clear()          // sets the pointer to nil
}

// ref is the nested for a **T: generic, so that each struct's slot method
// stays one line per field.
type ref[T any, P interface {
	*T
	decodable
}] struct{ p **T }

func (r ref[T, P]) open() decodable {
	if *r.p == nil {
		*r.p = new(T)
	}
	return P(*r.p)
}

func (r ref[T, P]) clear() { *r.p = nil }

func refTo[T any, P interface {
	*T
	decodable
}](p **T) nested {
	return ref[T, P]{p}
}

// expected names a field's Go type as encoding/json's messages do, and
// what it holds in a person's words.
func expected(slot any, sub *structInfo) (goType, want string) {
	switch slot.(type) {
	case *string:
		return "string", "a string"
	case *bool:
		return "bool", "true or false"
	case *int64:
		return "int64", "a whole number"
	case *map[string]any:
		return "map[string]interface {}", "an object"
	}
	return "token." + sub.name, "an object"
}

// zero empties a grant's field, which slot points to.
func zero(slot any) {
	switch p := slot.(type) {
	case *string:
		*p = ""
	case *map[string]any:
		*p = nil
	case nested:
		p.clear()
	}
}

// decoder reads one JSON value into Go values as json.Unmarshal does: the
// first type error is kept, and the rest of the value is still read.
type decoder struct {
	err  *typeError
	path []string // JSON names of the fields being read, outermost first
	in   string   // the Go name of the struct holding the innermost of them
}

func (d *decoder) result() error {
	if d.err == nil {
		return nil
	}
	return d.err
}

// wrongType keeps a type error for v, found where slot's field belongs,
// unless one is kept already.
func (d *decoder) wrongType(v jsonlite.Value, slot any, sub *structInfo) {
	goType, want := expected(slot, sub)
	d.fail(valueName(v), goType, want)
}

func (d *decoder) fail(value, goType, want string) {
	if d.err != nil {
		return
	}
	d.err = &typeError{Value: value, Type: goType, want: want}
	if len(d.path) > 0 {
		d.err.Struct = d.in
		d.err.Field = strings.Join(d.path, ".")
	}
}

// context puts the path being read in front of the field an error from
// within names, as encoding/json does for its Unmarshalers' type errors.
func (d *decoder) context(err error) error {
	if e, ok := err.(*typeError); ok && len(d.path) > 0 {
		e.Struct = d.in
		e.Field = join(strings.Join(d.path, "."), e.Field)
	}
	return err
}

// valueName is how encoding/json's type errors name a JSON value.
func valueName(v jsonlite.Value) string {
	switch v.Kind {
	case jsonlite.String:
		return "string"
	case jsonlite.Number:
		return "number"
	case jsonlite.Bool:
		return "bool"
	case jsonlite.Array:
		return "array"
	case jsonlite.Object:
		return "object"
	}
	return "null"
}

// object reads the object v into the struct s describes. A checked object
// is read exactly (see the top of exact.go); an unchecked one, a value a
// later duplicate key overrides, is read as encoding/json would read it
// alone. Type errors are kept in d; an error is returned only from Grants,
// which stops the read, as an Unmarshaler's error stops encoding/json.
func (d *decoder) object(obj decodable, s *structInfo, v jsonlite.Value, checked bool) error {
	members, filtered := v.Members, false
	if checked && inexact(v, s) {
		members, filtered = lastMembers(v), true
	}
	var last []bool
	if checked && !filtered {
		last = lastFlags(members, s)
	}
	for k, m := range members {
		var i int
		if checked {
			i = s.index(m.Key)
		} else {
			i = s.match(m.Key)
		}
		if i < 0 {
			continue // removed by the exact read, or ignored as encoding/json ignores it
		}
		f := s.fields[i]
		in := d.in
		d.path = append(d.path, f.name)
		d.in = s.name
		if err := d.value(obj.slot(f.name), f.sub, m.Value, checked && (last == nil || last[k]), filtered); err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
		d.in = in
	}
	return nil
}

// lastFlags reports, for members whose keys all name fields of s, whether
// each is the last of its key; nil when no key repeats.
func lastFlags(members []jsonlite.Member, s *structInfo) []bool {
	var seen uint64 // bit i: field i seen (structs here have far fewer than 64 fields)
	dup := false
	for _, m := range members {
		bit := uint64(1) << s.index(m.Key)
		if seen&bit != 0 {
			dup = true
			break
		}
		seen |= bit
	}
	if !dup {
		return nil
	}
	flags := make([]bool, len(members))
	seen = 0
	for k := len(members) - 1; k >= 0; k-- {
		bit := uint64(1) << s.index(members[k].Key)
		flags[k] = seen&bit == 0
		seen |= bit
	}
	return flags
}

// value reads v into the field slot points to. sub describes the struct a
// nested field points to; checked is as for object; compact says whether
// the enclosing object was rewritten by the exact read, which compacted
// the raw JSON that Grants keeps for unknown keys.
func (d *decoder) value(slot any, sub *structInfo, v jsonlite.Value, checked, compact bool) error {
	if v.Kind == jsonlite.Null {
		// null empties pointers and maps and leaves anything else as it
		// was; Grants, an Unmarshaler, ignores it.
		switch p := slot.(type) {
		case *map[string]any:
			*p = nil
		case nested:
			p.clear()
		}
		return nil
	}
	switch p := slot.(type) {
	case *string:
		if v.Kind != jsonlite.String {
			d.wrongType(v, slot, sub)
			return nil
		}
		*p = v.Str
	case *bool:
		if v.Kind != jsonlite.Bool {
			d.wrongType(v, slot, sub)
			return nil
		}
		*p = v.True
	case *int64:
		if v.Kind != jsonlite.Number {
			d.wrongType(v, slot, sub)
			return nil
		}
		n, ok := v.Int64()
		if !ok {
			d.fail("number "+string(v.Raw), "int64", "a whole number")
			return nil
		}
		*p = n
	case *map[string]any:
		if v.Kind != jsonlite.Object {
			d.wrongType(v, slot, sub)
			return nil
		}
		if *p == nil {
			*p = make(map[string]any, len(v.Members))
		}
		for _, m := range v.Members {
			(*p)[m.Key] = d.anyValue(m.Value)
		}
	case *Grants:
		if err := p.decode(v, compact); err != nil {
			return d.context(err)
		}
	case nested:
		if v.Kind != jsonlite.Object {
			d.wrongType(v, slot, sub)
			return nil
		}
		return d.object(p.open(), sub, v, checked)
	}
	return nil
}

// anyValue converts v as json.Unmarshal into an any does; a number too
// large for a float64 is a type error and becomes nil.
func (d *decoder) anyValue(v jsonlite.Value) any {
	switch v.Kind {
	case jsonlite.Number:
		f, ok := v.Float64()
		if !ok {
			d.fail("number "+string(v.Raw), "float64", "a number")
			return nil
		}
		return f
	case jsonlite.Array:
		items := make([]any, 0, len(v.Items))
		for _, it := range v.Items {
			items = append(items, d.anyValue(it))
		}
		return items
	case jsonlite.Object:
		m := make(map[string]any, len(v.Members))
		for _, mem := range v.Members {
			m[mem.Key] = d.anyValue(mem.Value)
		}
		return m
	}
	return v.Any()
}

// decodePlain reads v into obj as json.Unmarshal read the package's
// header and claims: into a struct type named plain, keys read exactly.
func decodePlain(obj decodable, s *structInfo, v jsonlite.Value) error {
	var d decoder
	if v.Kind != jsonlite.Object {
		d.fail(valueName(v), "token.plain", "an object")
		return d.err
	}
	if err := d.object(obj, s, v, true); err != nil {
		return err
	}
	return d.result()
}

func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }
