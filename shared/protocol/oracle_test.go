package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// This file keeps the package's first implementation, built on
// encoding/json, as the oracle the reflection-free one is checked against
// (FuzzDecodeOracle, FuzzEncodeOracle): same messages, same errors word for
// word, same bytes on the wire.

// oracleEncode is Encode as json.Marshal wrote it.
func oracleEncode(m protocol.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// oracleDecode is Decode as encoding/json's Decoder read it.
func oracleDecode(data []byte) (protocol.Message, error) {
	var m protocol.Message
	if !utf8.Valid(data) {
		return protocol.Message{}, fmt.Errorf("%w: the frame is not valid UTF-8", protocol.ErrBadMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return protocol.Message{}, fmt.Errorf("%w: %s", protocol.ErrBadMessage, oracleDescribe(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return protocol.Message{}, fmt.Errorf("%w: more than one JSON value in the frame", protocol.ErrBadMessage)
	}
	if err := oracleExactKeys(data); err != nil {
		return protocol.Message{}, err
	}
	if err := oracleValidate(m); err != nil {
		return protocol.Message{}, err
	}
	return m, nil
}

func oracleValidate(m protocol.Message) error {
	missing := func(field string) error {
		return fmt.Errorf("%w: %q message needs %q", protocol.ErrBadMessage, m.Type, field)
	}
	switch m.Type {
	case "":
		return fmt.Errorf("%w: the \"type\" field is missing", protocol.ErrBadMessage)
	case protocol.TypeRenew, protocol.TypePing:
		return nil
	case protocol.TypeHello, protocol.TypePong:
		if m.ServerTimeMS == 0 {
			return missing("server_time_ms")
		}
	case protocol.TypeExpiring, protocol.TypeExpired:
		if m.JTI == "" {
			return missing("jti")
		}
		if m.Exp == 0 {
			return missing("exp")
		}
	case protocol.TypeToken:
		if m.Token == "" {
			return missing("token")
		}
	case protocol.TypeRevoked:
		if m.Reason == "" {
			return missing("reason")
		}
	case protocol.TypeError:
		if m.Code == "" {
			return missing("code")
		}
	default:
		return fmt.Errorf("%w: unknown type %q", protocol.ErrBadMessage, m.Type)
	}
	return nil
}

var oracleFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[protocol.Message]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

func oracleExactKeys(data []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("%w: %s", protocol.ErrBadMessage, oracleDescribe(err))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if !oracleFields[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	for f := range oracleFields {
		if strings.EqualFold(f, keys[0]) {
			return fmt.Errorf("%w: unknown field %+q: keys are case-sensitive, write %q", protocol.ErrBadMessage, keys[0], f)
		}
	}
	return fmt.Errorf("%w: unknown field %+q", protocol.ErrBadMessage, keys[0])
}

func oracleDescribe(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q has the wrong type (%s)", typeErr.Field, typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return "not valid JSON"
	}
	return err.Error()
}

// FuzzDecodeOracle checks that Decode agrees with oracleDecode on any
// frame: the same message, or an error with the same words, and that an
// accepted message encodes as json.Marshal writes it.
func FuzzDecodeOracle(f *testing.F) {
	// testdata/fuzz/FuzzDecodeOracle holds the frames at the edges of what
	// encoding/json's Decoder reads: values cut short or followed by more,
	// the first of several problems, keys matched by folding, null, numbers
	// an int64 does not hold.
	for _, s := range []string{
		`{"type":"hello","server_time_ms":1700000000000,"jti":"SK1-1","exp":1700003600,"identity":"alice","lead_ms":60000,"session_exp_ms":1700086400000}`,
		`{"type":"token","id":"r1","token":"a.b.c","jti":"SK1-2","exp":1700007200,"identity":"alice","reason":"renewed"}`,
		`{"type":"error","code":"bad_message","message":"m"}`,
		`{"type":"renew","id":"r"}`,
		`{"type":"ping","foo":1}`,
		`{"TYPE":"ping"}`,
		`{"type":"ping"}}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeAgrees(t, data)
	})
}

// FuzzEncodeOracle checks that Encode writes every message byte for byte
// as json.Marshal does, and that what it writes decodes as before.
func FuzzEncodeOracle(f *testing.F) {
	f.Add("token", "r1", "a.b.c", "SK1-1", int64(1700003600), "alice", int64(1700000000000), int64(60000), int64(1700086400000), "renewed", "", "")
	f.Add("error", "<&>", "", "", int64(-1), "\u2028\u2029", int64(-1<<63), int64(1<<63-1), int64(0), "\x00\x1f\"\\/", "bad_message", "\xff\xed\xa0\x80é")
	f.Fuzz(func(t *testing.T, typ, id, tok, jti string, exp int64, identity string, serverTime, lead, sessionExp int64, reason, code, text string) {
		m := protocol.Message{Type: typ, ID: id, ServerTimeMS: serverTime, Token: tok, JTI: jti, Exp: exp,
			Identity: identity, LeadMS: lead, SessionExpMS: sessionExp, Reason: reason, Code: code, Text: text}
		got, want := protocol.Encode(m), oracleEncode(m)
		if !bytes.Equal(got, want) {
			t.Fatalf("Encode(%#v)\n = %s\nwant %s", m, got, want)
		}
		checkDecodeAgrees(t, got)
	})
}

func checkDecodeAgrees(tb testing.TB, data []byte) {
	tb.Helper()
	got, err := protocol.Decode(data)
	want, wantErr := oracleDecode(data)
	if got != want {
		tb.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
	}
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		tb.Fatalf("Decode(%q) error = %v, want %v", data, err, wantErr)
	}
	if err != nil && !errors.Is(err, protocol.ErrBadMessage) {
		tb.Fatalf("error %v does not wrap ErrBadMessage", err)
	}
	if err == nil && !bytes.Equal(protocol.Encode(got), oracleEncode(got)) {
		tb.Fatalf("Encode(%+v) = %s, want %s", got, protocol.Encode(got), oracleEncode(got))
	}
}

// TestDecodeDeepNesting holds Decode to encoding/json up to jsonlite's
// nesting limit, and checks that deeper frames are refused as bad
// messages rather than ending the program (under js/wasm a deeper
// recursion would overflow the JS engine's stack). The server never reads
// such frames: they are longer than its 512-byte read limit.
func TestDecodeDeepNesting(t *testing.T) {
	atLimit := strings.Repeat("[", jsonlite.MaxDepth-1) + strings.Repeat("]", jsonlite.MaxDepth-1)
	for _, s := range []string{
		strings.Repeat("[", jsonlite.MaxDepth),
		`{"type":"ping","id":` + atLimit + `}`,
		`{"type":"ping","x":` + atLimit + `}`,
		`{"type":"ping"}` + atLimit,
	} {
		checkDecodeAgrees(t, []byte(s))
	}
	tooDeep := strings.Repeat("[", jsonlite.MaxDepth+1) + strings.Repeat("]", jsonlite.MaxDepth+1)
	for _, s := range []string{
		strings.Repeat("[", 10001),
		tooDeep,
		`{"type":"ping","id":` + tooDeep + `}`,
	} {
		if _, err := protocol.Decode([]byte(s)); !errors.Is(err, protocol.ErrBadMessage) {
			t.Errorf("Decode(%.40q…) = %v, want ErrBadMessage", s, err)
		}
	}
}
