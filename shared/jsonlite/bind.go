package jsonlite

import (
	"strconv"
	"strings"
)

// Field binds one object key to the code that reads its value into a T.
// Read gets the value's JSON path ("grants.video.room") for its errors.
// Str or Int is set for a string or an integer field, so that the same
// table can write it.
type Field[T any] struct {
	Key  string
	Read func(t *T, v Value, path string) error
	Str  func(t *T) *string
	Int  func(t *T) *int64
}

// Binding is the members an object may have, read into a T. Keys match
// exactly, case included: Twilio and tokenlab read "exp", never "EXP". A
// binding is a table built once, so that reading allocates nothing.
type Binding[T any] struct {
	Fields []Field[T]
	// Unknown reads a key no field names; nil refuses such keys, unless
	// SkipUnknown is set.
	Unknown func(t *T, key string, v Value, path string) error
	// SkipUnknown skips keys no field names, so that the writer can add
	// some; a key that differs from a field's only in case is still
	// refused, since another reader would take it for that field.
	SkipUnknown bool
}

// FieldError says what is wrong at Path and what was expected there.
type FieldError struct {
	Path    string // dot-separated; "" for the value as a whole
	Problem string // "must be a string, not a number"
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	// ASCII, so that a look-alike key ("to\u212aen", with a Kelvin sign)
	// shows what it is.
	return strconv.QuoteToASCII(e.Path) + " " + e.Problem
}

// Read reads the object v, found at path, into t member by member in
// document order, and returns the first problem: v is not an object, a
// key is given twice, a key is unknown (when b.Unknown is nil), or what a
// Field's Read returned. null reads as an empty object.
func (b *Binding[T]) Read(t *T, v Value, path string) error {
	switch v.Kind {
	case Null:
		return nil
	case Object:
	default:
		return Expected(v, path, "an object")
	}
	var seen uint64 // bit i: Fields[i] read (bindings have far fewer than 64 fields)
	var seenUnknown map[string]bool
	for _, m := range v.Members {
		at := Join(path, m.Key)
		i := b.index(m.Key)
		switch {
		case i >= 0 && seen&(1<<i) != 0, i < 0 && seenUnknown[m.Key]:
			return &FieldError{at, "is given more than once: give each key once"}
		case i >= 0:
			seen |= 1 << i
			if err := b.Fields[i].Read(t, m.Value, at); err != nil {
				return err
			}
		case b.Unknown == nil && (!b.SkipUnknown || b.folds(m.Key)):
			return &FieldError{at, b.unknown(m.Key, path)}
		default:
			if seenUnknown == nil {
				seenUnknown = map[string]bool{}
			}
			seenUnknown[m.Key] = true
			if b.Unknown == nil {
				continue
			}
			if err := b.Unknown(t, m.Key, m.Value, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// Has reports whether key names one of b's fields, spelled exactly.
func (b *Binding[T]) Has(key string) bool { return b.index(key) >= 0 }

func (b *Binding[T]) index(key string) int {
	for i, f := range b.Fields {
		if f.Key == key && i < 64 {
			return i
		}
	}
	return -1
}

// folds reports whether key differs from a field's key only in case.
func (b *Binding[T]) folds(key string) bool {
	for _, f := range b.Fields {
		if strings.EqualFold(f.Key, key) {
			return true
		}
	}
	return false
}

// unknown says that key is not one of b's, and which it may have meant.
func (b *Binding[T]) unknown(key, path string) string {
	for _, f := range b.Fields {
		if strings.EqualFold(f.Key, key) {
			return "is not a known key: keys are case-sensitive, write " + strconv.Quote(f.Key)
		}
	}
	s := "is not a known key (known: "
	if path != "" {
		s = "is not a known key (" + strconv.QuoteToASCII(path) + " has: "
	}
	for i, f := range b.Fields {
		if i > 0 {
			s += ", "
		}
		s += f.Key
	}
	return s + ")"
}

// Append appends t's string and integer fields to o in b's order, as
// encoding/json writes them with omitempty: empty strings and zeros left
// out.
func (b *Binding[T]) Append(o *ObjectWriter, t *T) {
	for _, f := range b.Fields {
		switch {
		case f.Str != nil:
			o.StringOmitEmpty(f.Key, *f.Str(t))
		case f.Int != nil:
			if n := *f.Int(t); n != 0 {
				o.Key(f.Key)
				o.B = strconv.AppendInt(o.B, n, 10)
			}
		}
	}
}

// Expected is the error for v, found at path, where want ("a string", "a
// whole number") was expected.
func Expected(v Value, path, want string) error {
	return &FieldError{path, "must be " + want + ", not " + Describe(v)}
}

// Describe names a value for a message: "a string", "the number 1.5",
// "null".
func Describe(v Value) string {
	switch v.Kind {
	case Number:
		return "the number " + string(v.Raw)
	case Bool:
		return "a boolean"
	case String:
		return "a string"
	case Array:
		return "an array"
	case Object:
		return "an object"
	}
	return "null"
}

// Join appends key to a dot-separated path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// StringField binds key to the string at(t) points to; null leaves it.
func StringField[T any](key string, at func(*T) *string) Field[T] {
	return Field[T]{Key: key, Str: at, Read: func(t *T, v Value, path string) error {
		switch v.Kind {
		case Null:
		case String:
			*at(t) = v.Str
		default:
			return Expected(v, path, "a string")
		}
		return nil
	}}
}

// IntField binds key to the int64 at(t) points to: a whole number in
// range ("1.0" and "1e3" are not); null leaves it.
func IntField[T any](key string, at func(*T) *int64) Field[T] {
	return Field[T]{Key: key, Int: at, Read: func(t *T, v Value, path string) error {
		if v.Kind == Null {
			return nil
		}
		n, ok := v.Int64()
		if !ok {
			return Expected(v, path, "a whole number")
		}
		*at(t) = n
		return nil
	}}
}

// BoolField binds key to the bool at(t) points to; null leaves it.
func BoolField[T any](key string, at func(*T) *bool) Field[T] {
	return Field[T]{Key: key, Read: func(t *T, v Value, path string) error {
		switch v.Kind {
		case Null:
		case Bool:
			*at(t) = v.True
		default:
			return Expected(v, path, "true or false")
		}
		return nil
	}}
}
