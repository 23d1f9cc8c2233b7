package protocol

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFieldsFollowTags keeps the hand-written key list, which Decode
// matches keys against, equal to Message's json tags, which say what
// encoding/json (and so docs/protocol.md's examples) writes.
func TestFieldsFollowTags(t *testing.T) {
	var tags []string
	typ := reflect.TypeFor[Message]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		tags = append(tags, name)
	}
	if !slices.Equal(fields[:], tags) {
		t.Errorf("fields = %q, Message's tags are %q", fields, tags)
	}
	var m Message
	for _, f := range fields {
		if s, n := m.slot(f); (s == nil) == (n == nil) {
			t.Errorf("slot(%q) gives no field, or two", f)
		}
	}
}
