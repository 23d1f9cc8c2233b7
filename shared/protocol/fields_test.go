package protocol

import (
	"reflect"
	"strings"
	"testing"
)

// TestFieldsFollowTags keeps the binding, which Decode and Encode read and
// write keys by, equal to Message's json tags, which say what the server's
// encoding/json (and so docs/protocol.md's examples) writes.
func TestFieldsFollowTags(t *testing.T) {
	typ := reflect.TypeFor[Message]()
	if len(messageFields.Fields) != typ.NumField() {
		t.Fatalf("%d fields bound, Message has %d", len(messageFields.Fields), typ.NumField())
	}
	for i, f := range messageFields.Fields {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if f.Key != name {
			t.Errorf("field %d is bound to %q, tagged %q", i, f.Key, name)
		}
		if (f.Str == nil) == (f.Int == nil) {
			t.Errorf("field %q is neither a string nor an integer, or both", f.Key)
		}
	}
}
