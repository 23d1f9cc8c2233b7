package token

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// encoding/json matches object keys to struct fields case-insensitively, so
// {"EXP": 1} would fill Claims.Exp and {"video": {"Room": "x"}} would pass
// a strict parse. Twilio's services read keys exactly as spelled; a key they
// would ignore must be ignored (or reported) here too.
//
// The package decodes by hand, without reflection, so that the page's
// program links neither encoding/json nor reflect. It keeps the behaviour
// the package had when it filtered keys and then called json.Unmarshal:
// every object that describes a struct of this package is checked first,
// and when a key in it (or in an object nested in it) is not exactly a
// field's name, the object is read as that filtering left it: without the
// unknown keys, duplicates reduced to the last, members in key order.
// Otherwise it is read as written, in document order, duplicates included,
// and the values a later duplicate overrides were never checked, so they
// are read as encoding/json reads them, keys matched case-insensitively.
// FuzzDecodeAgrees (fuzz_oracle_test.go) holds this code to the old one,
// which oracle_test.go keeps.

// structInfo describes a struct this package decodes by hand: its Go name
// (which encoding/json's type errors quote) and its JSON fields.
type structInfo struct {
	name   string
	fields []fieldInfo // in declaration order
}

// fieldInfo is one JSON field of a struct. sub describes the struct a
// pointer field points to; nil for strings, numbers, maps and Grants.
type fieldInfo struct {
	name string
	sub  *structInfo
}

// index returns the position of the field named key exactly, or -1.
func (s *structInfo) index(key string) int {
	for i, f := range s.fields {
		if f.name == key {
			return i
		}
	}
	return -1
}

// match returns the position of the field encoding/json fills from key:
// the exactly named one, else the first whose name equals key under
// Unicode case folding; -1 when there is none.
func (s *structInfo) match(key string) int {
	if i := s.index(key); i >= 0 {
		return i
	}
	for i, f := range s.fields {
		if strings.EqualFold(f.name, key) {
			return i
		}
	}
	return -1
}

// sortedNames lists the fields' names in lexical order, for messages.
func (s *structInfo) sortedNames() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	slices.Sort(names)
	return names
}

// inexact reports whether v, an object read into the struct s describes,
// holds a key that is not exactly one of its fields, at its own level or
// in an object nested under a struct field (the last of duplicate keys
// counting, as it is the one kept).
func inexact(v jsonlite.Value, s *structInfo) bool {
	if v.Kind != jsonlite.Object {
		return false
	}
	for _, m := range v.Members {
		if s.index(m.Key) < 0 {
			return true
		}
	}
	for _, f := range s.fields {
		if f.sub == nil {
			continue
		}
		if last, ok := v.Get(f.name); ok && inexact(last, f.sub) {
			return true
		}
	}
	return false
}

// lastMembers returns the members of object v, one per key (the last), in
// key order, as decoding into a map and sorting its keys gives them.
func lastMembers(v jsonlite.Value) []jsonlite.Member {
	sorted := slices.Clone(v.Members)
	// Stable, so that the last of equal keys is the last in the document.
	slices.SortStableFunc(sorted, func(a, b jsonlite.Member) int { return strings.Compare(a.Key, b.Key) })
	out := sorted[:0]
	for i, m := range sorted {
		if i+1 < len(sorted) && sorted[i+1].Key == m.Key {
			continue
		}
		out = append(out, m)
	}
	return out
}

// unknownFields returns one *FieldError (wrapping ErrUnknownField) per key
// of v that does not spell a field of s exactly, at every level where s
// describes a struct, named from path, in key order, depth first.
func unknownFields(v jsonlite.Value, s *structInfo, path string) []*FieldError {
	if v.Kind != jsonlite.Object {
		return nil
	}
	var problems []*FieldError
	for _, m := range lastMembers(v) {
		field := join(path, m.Key)
		i := s.index(m.Key)
		switch {
		case i < 0:
			problems = append(problems, &FieldError{Field: field, Problem: unknownFieldProblem(path, m.Key, s), Err: ErrUnknownField})
		case s.fields[i].sub != nil:
			problems = append(problems, unknownFields(m.Value, s.fields[i].sub, field)...)
		}
	}
	return problems
}

func unknownFieldProblem(path, key string, s *structInfo) string {
	names := s.sortedNames()
	for _, n := range names {
		if FoldKey(n) == FoldKey(key) {
			return "is not a known field: keys are case-sensitive snake_case, write " + strconv.Quote(n)
		}
	}
	if path == "" {
		return "is not a known field (known: " + strings.Join(names, ", ") + ")"
	}
	return "is not a known field (" + path + " has: " + strings.Join(names, ", ") + ")"
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

func join(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}
