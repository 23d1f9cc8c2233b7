package jsonlite

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// seeds cover every kind, every escape and every syntax error context.
var seeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e-7`, `12345678901234567890`, `1e400`, `-1.25E+3`,
	`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u2028<&>"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`,
	"\"\xff\xfe bad utf8\"", "\"\xed\xa0\x80\"", `{}`, `[]`, ` { "a" : [ 1 , { "b" : null } ] , "a" : 2 } `,
	`{"grants":{"identity":"alice","video":{"room":"My Room"}},"exp":1700000000}`,
	``, ` `, `{`, `[`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `[1,]`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`, `[1 2]`,
	`tru`, `trUe`, `fals`, `nul`, `nulL`, `-`, `-a`, `01`, `1.`, `1.e3`, `1e`, `1e+`, `.5`, `+1`, `"abc`, "\"a\x01\"",
	`"\x"`, `"\u12"`, `"\u12G4"`, `1 2`, `{} x`, `'a'`, `[[[[]]]]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agree(t, data)
	})
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		agree(t, []byte(s))
	}
}

// agree checks Parse, Valid, Any, Indent and AppendAny against encoding/json.
func agree(t *testing.T, data []byte) {
	t.Helper()
	v, err := Parse(data)
	if err != nil && strings.HasSuffix(err.Error(), " exceeded max depth") && nesting(data) > MaxDepth {
		return // deeper than jsonlite allows (encoding/json allows more)
	}
	if got, want := err == nil, json.Valid(data); got != want {
		t.Fatalf("Parse(%q) error %v; json.Valid %v", data, err, want)
	}
	var want any
	jerr := json.Unmarshal(data, &want)
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Parse(%q): error %T, want *SyntaxError", data, err)
		}
		var jse *json.SyntaxError
		if errors.As(jerr, &jse) && jse.Error() != se.Error() {
			t.Fatalf("Parse(%q): %q, encoding/json says %q", data, se.Error(), jse.Error())
		}
		if _, ierr := Indent(nil, data, "", "  "); ierr == nil {
			t.Fatalf("Indent(%q) accepted invalid JSON", data)
		}
		return
	}
	if !bytes.Equal(v.Raw, bytes.TrimSpace(data)) {
		t.Fatalf("Raw %q, want %q", v.Raw, bytes.TrimSpace(data))
	}
	if jerr == nil && !reflect.DeepEqual(v.Any(), want) {
		t.Fatalf("Any(%q) = %#v, json.Unmarshal gives %#v", data, v.Any(), want)
	}
	var wantIndent bytes.Buffer
	if jerr := json.Indent(&wantIndent, data, ">", "\t"); jerr != nil {
		t.Fatalf("json.Indent(%q): %v", data, jerr)
	}
	gotIndent, ierr := Indent([]byte("x"), data, ">", "\t")
	if ierr != nil || string(gotIndent) != "x"+wantIndent.String() {
		t.Fatalf("Indent(%q) = %q, %v; want %q", data, gotIndent, ierr, "x"+wantIndent.String())
	}
	wantRaw, _ := json.Marshal(json.RawMessage(data))
	if got, err := AppendAny(nil, v); err != nil || !bytes.Equal(got, wantRaw) {
		t.Fatalf("AppendAny(Value %q) = %q, %v; want %q", data, got, err, wantRaw)
	}
	if jerr != nil {
		return // a number out of float64 range: nothing more to compare
	}
	wantOut, merr := json.Marshal(want)
	gotOut, err := AppendAny(nil, v.Any())
	if merr != nil || err != nil || !bytes.Equal(gotOut, wantOut) {
		t.Fatalf("AppendAny(%#v) = %q, %v; json.Marshal %q, %v", want, gotOut, err, wantOut, merr)
	}
	if v.Kind == String {
		var s string
		if err := json.Unmarshal(data, &s); err != nil || s != v.Str {
			t.Fatalf("Str of %q = %q, json.Unmarshal %q", data, v.Str, s)
		}
	}
	if n, ok := v.Int64(); v.Kind == Number {
		var want int64
		werr := json.Unmarshal(data, &want)
		if ok != (werr == nil) || ok && n != want {
			t.Fatalf("Int64(%q) = %d, %v; json.Unmarshal %d, %v", data, n, ok, want, werr)
		}
	}
}

// nesting counts the deepest level of brackets outside strings.
func nesting(data []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == '[' || c == '{'):
			depth++
			deepest = max(deepest, depth)
		case !inString && (c == ']' || c == '}'):
			depth--
		}
	}
	return deepest
}

// TestAppendStringEveryByte compares AppendString with json.Marshal on
// every single byte, runes at the escaping boundaries, and random byte
// strings.
func TestAppendStringEveryByte(t *testing.T) {
	var inputs []string
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for _, r := range []rune{0x80, 0xff, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		inputs = append(inputs, string(r))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json = %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\u2028\u2029", "\x00\x1f\x7f", "\b\f\n\r\t\\", "\xff\xc3(", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendString(%q) = %q, want x%q", s, got, want)
		}
	})
}

func TestAppendAnyTypes(t *testing.T) {
	values := []any{
		nil, true, "s", 1.0, 0.000001, 0.0000001, 1e20, 1e21, -1e-7, math.MaxFloat64, float32(3.14), float32(1e-7), 42, int64(-7),
		[]any{}, []any(nil), []string{"a", "<b>"}, []string(nil), map[string]string{"z": "1", "a": "2"}, map[string]string(nil),
		map[string]any{"b": []any{1.5, "x", nil, map[string]any{}}, "a": false, "é": map[string]any{"k": "v"}}, map[string]any(nil),
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendAny(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendAny(%#v) = %q, %v; want %q", v, got, err, want)
		}
	}
	for _, v := range []any{math.Inf(1), math.NaN(), struct{}{}, []int{1}, map[string]any{"x": math.Inf(-1)}} {
		if _, err := AppendAny(nil, v); err == nil {
			t.Errorf("AppendAny(%#v): no error", v)
		}
	}
}

func TestGetMapNumbers(t *testing.T) {
	v, err := Parse([]byte(`{"exp": 1, "EXP": 2, "exp": 3, "f": 1.5, "s": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := v.Get("exp"); !ok || string(got.Raw) != "3" {
		t.Errorf(`Get("exp") = %q, %v; want the last duplicate, 3`, got.Raw, ok)
	}
	if _, ok := v.Get("Exp"); ok {
		t.Error(`Get("Exp") found a key spelled differently`)
	}
	m := v.Map()
	if len(m) != 4 || string(m["exp"].Raw) != "3" || string(m["EXP"].Raw) != "2" {
		t.Errorf("Map() = %v", m)
	}
	if n, ok := m["exp"].Int64(); !ok || n != 3 {
		t.Errorf("Int64 = %d, %v", n, ok)
	}
	if _, ok := m["f"].Int64(); ok {
		t.Error("Int64 accepted 1.5")
	}
	if f, ok := m["f"].Float64(); !ok || f != 1.5 {
		t.Errorf("Float64 = %v, %v", f, ok)
	}
	if _, ok := m["s"].Float64(); ok || m["s"].Kind.String() != "string" {
		t.Error("a string read as a number")
	}
	if (Value{}).Map() != nil || v.IsNull() {
		t.Error("Map of a non-object, or IsNull of an object")
	}
}

func TestSyntaxErrorOffsetAndDepth(t *testing.T) {
	_, err := Parse([]byte(`{"a":x}`))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 6 || se.Error() != "invalid character 'x' looking for beginning of value" {
		t.Errorf("got %#v", err)
	}
	deep := strings.Repeat(`{"a":`, MaxDepth+1)
	if _, err := Parse([]byte(deep)); err == nil || err.Error() != "invalid character '{' exceeded max depth" || !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth %d: %v", MaxDepth+1, err)
	}
	if _, err := Parse([]byte(`{"a":x}`)); errors.Is(err, ErrTooDeep) {
		t.Errorf("%v matches ErrTooDeep", err)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.", 14)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

func TestObjectWriter(t *testing.T) {
	o := OpenObject([]byte("x"))
	o.String("a", `"<q>"`)
	o.StringOmitEmpty("skipped", "")
	o.StringOmitEmpty("b", "v")
	o.Key("n")
	o.B = append(o.B, '1')
	in := OpenObject(nil)
	o.Key("empty")
	o.B = append(o.B, in.Close()...)
	want := `x{"a":"\"\u003cq\u003e\"","b":"v","n":1,"empty":{}}`
	if got := string(o.Close()); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
