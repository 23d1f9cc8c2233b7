package jsonlite

import "strconv"

// IsNull reports whether v is JSON null.
func (v Value) IsNull() bool { return v.Kind == Null }

// Get returns the object member with exactly this key (keys are
// case-sensitive here, unlike encoding/json's struct matching). With
// duplicate keys it returns the last, the one json.Unmarshal keeps.
func (v Value) Get(key string) (Value, bool) {
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Key == key {
			return v.Members[i].Value, true
		}
	}
	return Value{}, false
}

// Map returns an object's members by key, the last of duplicates winning,
// or nil when v is not an object.
func (v Value) Map() map[string]Value {
	if v.Kind != Object {
		return nil
	}
	m := make(map[string]Value, len(v.Members))
	for _, mem := range v.Members {
		m[mem.Key] = mem.Value
	}
	return m
}

// Int64 returns a number that json.Unmarshal would put in an int64: an
// integer literal in range ("1.0" and "1e3" are not).
func (v Value) Int64() (int64, bool) {
	if v.Kind != Number {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v.Raw), 10, 64)
	return n, err == nil
}

// Float64 returns a number that fits a float64.
func (v Value) Float64() (float64, bool) {
	if v.Kind != Number {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.Raw), 64)
	return f, err == nil
}

// Any converts v as json.Unmarshal into an any would: nil, bool, float64,
// string, []any or map[string]any. A number too large for a float64
// becomes an infinity (json.Unmarshal refuses it instead).
func (v Value) Any() any {
	switch v.Kind {
	case Bool:
		return v.True
	case Number:
		f, _ := strconv.ParseFloat(string(v.Raw), 64)
		return f
	case String:
		return v.Str
	case Array:
		items := make([]any, len(v.Items))
		for i, it := range v.Items {
			items[i] = it.Any()
		}
		return items
	case Object:
		m := make(map[string]any, len(v.Members))
		for _, mem := range v.Members {
			m[mem.Key] = mem.Value.Any()
		}
		return m
	}
	return nil
}
