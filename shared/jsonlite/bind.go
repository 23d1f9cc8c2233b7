package jsonlite

import (
	"strconv"
	"strings"
)

// Field binds one object key to the code that reads its value into a T
// and writes it back. Str or Int is set for a string or an integer field,
// which Binding.Append writes when not empty; Write, when set, writes any
// other field (and decides whether to).
type Field[T any] struct {
	Key   string
	Read  func(t *T, v Value, at At) error
	Str   func(t *T) *string
	Int   func(t *T) *int64
	Write func(t *T, o *ObjectWriter) error
}

// At is where a value is read: its JSON path ("grants.video.room"), for
// errors, and what becomes of unknown keys below it.
type At struct {
	Path string
	// Unknown, when set, is told of every unknown key a Binding neither
	// reads nor skips, and the read goes on; when nil, such a key fails
	// the read.
	Unknown func(path, problem string)
}

// Key is where the member key of the value at a is read.
func (a At) Key(key string) At { return At{Join(a.Path, key), a.Unknown} }

// Binding is the members an object may have, read into a T. Keys match
// exactly, case included: Twilio and tokenlab read "exp", never "EXP". A
// binding is a table built once, so that reading allocates nothing.
type Binding[T any] struct {
	Fields []Field[T]
	// Unknown reads a key no field names; nil refuses such keys, unless
	// SkipUnknown is set.
	Unknown func(t *T, key string, v Value, at At) error
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

// Read reads the object v, found at at, into t member by member in
// document order, and returns the first problem: v is not an object, a
// key is given twice, a key is unknown (see Binding.Unknown and At), or
// what a Field's Read returned. null reads as an empty object.
func (b *Binding[T]) Read(t *T, v Value, at At) error {
	o := object{keys: b.keys(), skip: b.SkipUnknown,
		field: func(i int, v Value, at At) error { return b.Fields[i].Read(t, v, at) }}
	if b.Unknown != nil {
		o.unknown = func(key string, v Value, at At) error { return b.Unknown(t, key, v, at) }
	}
	return o.read(v, at)
}

// keys lists b's keys; the walk over an object is not generic, so that
// the page's program holds one copy of it, not one per bound type.
func (b *Binding[T]) keys() []string {
	keys := make([]string, len(b.Fields))
	for i, f := range b.Fields {
		keys[i] = f.Key
	}
	return keys
}

// Has reports whether key names one of b's fields, spelled exactly.
func (b *Binding[T]) Has(key string) bool { return object{keys: b.keys()}.index(key) >= 0 }

// object is a Binding without its type: the keys, and how to read the
// value of the i-th or of an unknown one.
type object struct {
	keys    []string
	field   func(i int, v Value, at At) error
	unknown func(key string, v Value, at At) error
	skip    bool
}

func (o object) read(v Value, at At) error {
	switch v.Kind {
	case Null:
		return nil
	case Object:
	default:
		return Expected(v, at, "an object")
	}
	path := at.Path
	var seen uint64 // bit i: field i read (bindings have far fewer than 64 fields)
	var seenUnknown map[string]bool
	for _, m := range v.Members {
		in := at.Key(m.Key)
		i := o.index(m.Key)
		switch {
		case i >= 0 && seen&(1<<i) != 0, i < 0 && seenUnknown[m.Key]:
			return &FieldError{in.Path, "is given more than once: give each key once"}
		case i >= 0:
			seen |= 1 << i
			if err := o.field(i, m.Value, in); err != nil {
				return err
			}
		case o.unknown == nil && (!o.skip || o.folds(m.Key)):
			if at.Unknown == nil {
				return &FieldError{in.Path, o.problem(m.Key, path)}
			}
			at.Unknown(in.Path, o.problem(m.Key, path))
		default:
			if seenUnknown == nil {
				seenUnknown = map[string]bool{}
			}
			seenUnknown[m.Key] = true
			if o.unknown == nil {
				continue
			}
			if err := o.unknown(m.Key, m.Value, in); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o object) index(key string) int {
	for i, k := range o.keys {
		if k == key && i < 64 {
			return i
		}
	}
	return -1
}

// folds reports whether key differs from a field's key only in case.
func (o object) folds(key string) bool {
	for _, k := range o.keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// problem says that key is not one of o's, and which it may have meant.
func (o object) problem(key, path string) string {
	for _, k := range o.keys {
		if FoldKey(k) == FoldKey(key) {
			return "is not a known field: keys are case-sensitive snake_case, write " + strconv.Quote(k)
		}
	}
	s := "is not a known field (known: "
	if path != "" {
		s = "is not a known field (" + path + " has: "
	}
	for i, k := range o.keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s + ")"
}

// Append appends t's fields to o in b's order, as encoding/json writes
// them with omitempty: empty strings and zeros left out. Only a Write can
// fail.
func (b *Binding[T]) Append(o *ObjectWriter, t *T) error {
	for _, f := range b.Fields {
		switch {
		case f.Write != nil:
			if err := f.Write(t, o); err != nil {
				return err
			}
		case f.Str != nil:
			o.StringOmitEmpty(f.Key, *f.Str(t))
		case f.Int != nil:
			if n := *f.Int(t); n != 0 {
				o.Key(f.Key)
				o.B = strconv.AppendInt(o.B, n, 10)
			}
		}
	}
	return nil
}

// Expected is the error for v, found at path, where want ("a string", "a
// whole number") was expected.
func Expected(v Value, at At, want string) error {
	return &FieldError{at.Path, "must be " + want + ", not " + Describe(v)}
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

// StringField binds key to the string ptr(t) points to; null leaves it.
func StringField[T any](key string, ptr func(*T) *string) Field[T] {
	return Field[T]{Key: key, Str: ptr, Read: func(t *T, v Value, at At) error {
		switch v.Kind {
		case Null:
		case String:
			*ptr(t) = v.Str
		default:
			return Expected(v, at, "a string")
		}
		return nil
	}}
}

// IntField binds key to the int64 ptr(t) points to: a whole number in
// range ("1.0" and "1e3" are not); null leaves it.
func IntField[T any](key string, ptr func(*T) *int64) Field[T] {
	return Field[T]{Key: key, Int: ptr, Read: func(t *T, v Value, at At) error {
		if v.Kind == Null {
			return nil
		}
		n, ok := v.Int64()
		if !ok {
			return Expected(v, at, "a whole number")
		}
		*ptr(t) = n
		return nil
	}}
}

// BoolField binds key to the bool ptr(t) points to; null leaves it. It is
// always written, false included.
func BoolField[T any](key string, ptr func(*T) *bool) Field[T] {
	write := func(t *T, o *ObjectWriter) error {
		o.Key(key)
		o.B = strconv.AppendBool(o.B, *ptr(t))
		return nil
	}
	return Field[T]{Key: key, Write: write, Read: func(t *T, v Value, at At) error {
		switch v.Kind {
		case Null:
		case Bool:
			*ptr(t) = v.True
		default:
			return Expected(v, at, "true or false")
		}
		return nil
	}}
}

// ObjectField binds key to a pointer to a P, read with b: null sets it to
// nil, an object to a new P. It is written, with b, when not nil.
func ObjectField[T, P any](key string, ptr func(*T) **P, b *Binding[P]) Field[T] {
	return Field[T]{Key: key,
		Read: func(t *T, v Value, at At) error {
			if v.Kind != Object {
				*ptr(t) = nil
				return nullOr(v, at)
			}
			p := new(P)
			if err := b.Read(p, v, at); err != nil {
				return err
			}
			*ptr(t) = p
			return nil
		},
		Write: func(t *T, o *ObjectWriter) error {
			p := *ptr(t)
			if p == nil {
				return nil
			}
			o.Key(key)
			in := OpenObject(o.B)
			if err := b.Append(&in, p); err != nil {
				return err
			}
			o.B = in.Close()
			return nil
		}}
}

// MapField binds key to a free-form object, read as json.Unmarshal reads
// one into a map[string]any (a number must fit a float64) and written
// with sorted keys when not empty; null sets it to nil.
func MapField[T any](key string, ptr func(*T) *map[string]any) Field[T] {
	return Field[T]{Key: key,
		Read: func(t *T, v Value, at At) error {
			if v.Kind != Object {
				*ptr(t) = nil
				return nullOr(v, at)
			}
			if err := fitsFloat64(v, at); err != nil {
				return err
			}
			*ptr(t) = v.Any().(map[string]any)
			return nil
		},
		Write: func(t *T, o *ObjectWriter) error {
			m := *ptr(t)
			if len(m) == 0 {
				return nil
			}
			o.Key(key)
			var err error
			o.B, err = AppendAny(o.B, m)
			return err
		}}
}

// nullOr accepts null where an object belongs, and refuses anything else.
func nullOr(v Value, at At) error {
	if v.Kind == Null {
		return nil
	}
	return Expected(v, at, "an object")
}

// fitsFloat64 refuses a number in v that a float64 cannot hold.
func fitsFloat64(v Value, at At) error {
	switch v.Kind {
	case Number:
		if _, ok := v.Float64(); !ok {
			return Expected(v, at, "a number a float64 holds")
		}
	case Array:
		for i, it := range v.Items {
			if err := fitsFloat64(it, At{at.Path + "[" + strconv.Itoa(i) + "]", at.Unknown}); err != nil {
				return err
			}
		}
	case Object:
		for _, m := range v.Members {
			if err := fitsFloat64(m.Value, at.Key(m.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// FoldKey reduces a key to what differs between serviceSid, ServiceSID and
// service_sid: nothing. Keys that fold alike are one key misspelled.
func FoldKey(key string) string {
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
