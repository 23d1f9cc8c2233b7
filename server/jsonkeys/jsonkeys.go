// Package jsonkeys finds keys given twice in one JSON object. JSON leaves
// their meaning open and readers disagree (encoding/json keeps the last
// copy, others the first), so a body that one check reads one way can be
// acted on another: the server refuses such input instead of picking.
package jsonkeys

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Duplicate returns the path of the first key, in document order, that
// appears a second time in the same object of body: members joined with
// "." and array elements written "[i]", as in "grants.video.room". It
// reads body with encoding/json's tokenizer (keys are compared unescaped,
// so "a" and "\u0061" are the same key) and reports nothing for a body
// that is not one valid JSON value, whose reader says what is wrong. In
// the path an empty key is written "" and keys over 64 bytes are
// shortened, since an answer may echo it back.
func Duplicate(body []byte) (path string, ok bool) {
	if !json.Valid(body) {
		return "", false
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			// In an object, where a value is done, the tokenizer's next
			// token is a key or the closing brace.
			if key, isKey := tok.(string); isKey {
				top := &stack[n-1]
				if _, seen := top.keys[key]; seen {
					return levelsPath(stack[:n-1], key), true
				}
				top.keys[key] = struct{}{}
				top.key, top.wantKey = key, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{keys: map[string]struct{}{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value is done: move past it in the enclosing level.
		n := len(stack)
		if n == 0 {
			return "", false
		}
		if top := &stack[n-1]; top.keys != nil {
			top.wantKey = true
		} else {
			top.index++
		}
	}
}

// level is an object or array open in duplicateKey's reading.
type level struct {
	keys    map[string]struct{} // the object's keys so far; nil for an array
	key     string              // the object member being read
	index   int                 // the array element being read
	wantKey bool                // the object's next token is a key
}

// levelsPath writes the path of the member or element being read in each
// of levels, followed by key.
func levelsPath(levels []level, key string) string {
	var b strings.Builder
	for _, l := range levels {
		if l.keys == nil {
			b.WriteString("[" + strconv.Itoa(l.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(clip(l.key))
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(clip(key))
	return b.String()
}

// clip shortens a key the client wrote, which an answer echoes back.
func clip(key string) string {
	const max = 64
	if key == "" {
		return `""` // so that a path is never empty
	}
	if len(key) <= max {
		return key
	}
	return strings.ToValidUTF8(key[:max], "") + "…"
}
