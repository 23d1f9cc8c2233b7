package jsonlite

// ObjectWriter appends the members of one JSON object to B, for encoders that
// write a known shape by hand: OpenObject, then one Key (followed by the
// value) or String per member, then Close.
type ObjectWriter struct {
	B     []byte
	first bool
}

// OpenObject starts an object at the end of b.
func OpenObject(b []byte) ObjectWriter { return ObjectWriter{B: append(b, '{'), first: true} }

// Key starts a member; the caller appends its value to B. k is written as
// it is, so it must be a literal that needs no escaping.
func (o *ObjectWriter) Key(k string) {
	if !o.first {
		o.B = append(o.B, ',')
	}
	o.first = false
	o.B = append(o.B, '"')
	o.B = append(o.B, k...)
	o.B = append(o.B, '"', ':')
}

// String writes a string member.
func (o *ObjectWriter) String(k, v string) {
	o.Key(k)
	o.B = AppendString(o.B, v)
}

// StringOmitEmpty writes a string member unless v is empty, as the
// omitempty option of a json tag does.
func (o *ObjectWriter) StringOmitEmpty(k, v string) {
	if v != "" {
		o.String(k, v)
	}
}

// Close ends the object and returns the bytes.
func (o *ObjectWriter) Close() []byte { return append(o.B, '}') }
