package jsonkeys_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/jsonkeys"
	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

func TestDuplicate(t *testing.T) {
	for _, tt := range []struct {
		name, body, path string
	}{
		{"none", `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, ""},
		{"top level", `{"a":1,"b":2,"a":3}`, "a"},
		{"escaped copy", `{"ttl":1,"\u0074tl":2}`, "ttl"},
		{"nested", `{"grants":{"video":{"room":"a","room":"b"}}}`, "grants.video.room"},
		{"in an array", `{"x":[1,{"y":1},{"y":1,"y":2}]}`, "x[2].y"},
		{"in a top-level array", `[[],{"k":1,"k":1}]`, "[1].k"},
		{"first in document order", `{"a":{"b":1,"b":2},"a":3}`, "a.b"},
		{"after a nested object", `{"a":{"b":{}},"c":1,"a":2}`, "a"},
		{"the same key in sibling objects", `[{"a":1},{"a":1}]`, ""},
		{"long key shortened", `{"` + strings.Repeat("k", 100) + `":1,"` + strings.Repeat("k", 100) + `":2}`, strings.Repeat("k", 64) + "…"},
		{"the empty key", `{"a":{"":1,"":2}}`, `a.""`},
		{"not JSON", `{"a":1,"a"`, ""},
		{"a scalar", `"a"`, ""},
		{"two values", `{"a":1} {"a":1,"a":2}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, ok := jsonkeys.Duplicate([]byte(tt.body))
			if path != tt.path || ok != (tt.path != "") {
				t.Errorf("Duplicate(%s) = %q, %v; want %q", tt.body, path, ok, tt.path)
			}
		})
	}
}

// FuzzDuplicate holds Duplicate to two other readers: shared/jsonlite,
// which keeps every member as written, and encoding/json into maps, which
// keeps one per key. They count the same keys exactly when there is no
// duplicate.
func FuzzDuplicate(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":[{"b":1,"b":2}]}`, `{}`, `[]`, `{"a":{"a":{"a":1}}}`, `{"\u00e9":1,"é":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		path, ok := jsonkeys.Duplicate(body)
		var v any
		if json.Unmarshal(body, &v) != nil {
			if ok {
				t.Fatalf("a duplicate %q reported in invalid JSON", path)
			}
			return
		}
		written, err := jsonlite.Parse(body)
		if err != nil {
			return // nested deeper than jsonlite reads
		}
		if ok != (path != "") {
			t.Fatalf("ok %v with path %q", ok, path)
		}
		if dup := members(written) != keys(v); dup != ok {
			t.Fatalf("Duplicate = %q, %v; jsonlite counts %d members, the maps %d keys: %s", path, ok, members(written), keys(v), body)
		}
	})
}

// members counts the object members in v, duplicates included.
func members(v jsonlite.Value) int {
	n := 0
	for _, m := range v.Members {
		n += 1 + members(m.Value)
	}
	for _, e := range v.Items {
		n += members(e)
	}
	return n
}

// keys counts the object keys in v, as read into maps.
func keys(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			n += 1 + keys(e)
		}
	case []any:
		for _, e := range v {
			n += keys(e)
		}
	}
	return n
}
