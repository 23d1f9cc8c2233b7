package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// The server writes messages with Encode and its docs show what
// encoding/json writes from Message's tags: the two must agree byte for
// byte (FuzzEncodeOracle).

// oracleEncode is Encode as json.Marshal writes it.
func oracleEncode(m protocol.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// oracleDecode is encoding/json's reading of a frame, the baseline of
// BenchmarkOracleDecode.
func oracleDecode(data []byte) (protocol.Message, error) {
	var m protocol.Message
	err := json.Unmarshal(data, &m)
	return m, err
}

// FuzzEncodeOracle checks that Encode writes every message byte for byte
// as json.Marshal does, and that Decode reads back what it wrote.
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
		back, err := protocol.Decode(got)
		if err != nil {
			if !errors.Is(err, protocol.ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return // Validate refuses it, or json.Marshal replaced invalid UTF-8
		}
		var viaJSON protocol.Message
		if err := json.Unmarshal(got, &viaJSON); err != nil || back != viaJSON {
			t.Fatalf("Decode(%s) = %+v, encoding/json reads %+v (%v)", got, back, viaJSON, err)
		}
	})
}

// TestDecodeDeepNesting checks that frames nested deeper than jsonlite's
// limit are refused as bad messages rather than ending the program (under
// js/wasm a deeper recursion would overflow the JS engine's stack). The
// server never reads such frames: they are longer than its 512-byte read
// limit.
func TestDecodeDeepNesting(t *testing.T) {
	atLimit := strings.Repeat("[", jsonlite.MaxDepth-1) + strings.Repeat("]", jsonlite.MaxDepth-1)
	tooDeep := strings.Repeat("[", jsonlite.MaxDepth+1) + strings.Repeat("]", jsonlite.MaxDepth+1)
	for _, s := range []string{
		strings.Repeat("[", jsonlite.MaxDepth),
		`{"type":"ping","id":` + atLimit + `}`,
		`{"type":"ping","x":` + atLimit + `}`,
		`{"type":"ping"}` + atLimit,
		strings.Repeat("[", 10001),
		tooDeep,
		`{"type":"ping","id":` + tooDeep + `}`,
	} {
		if _, err := protocol.Decode([]byte(s)); !errors.Is(err, protocol.ErrBadMessage) {
			t.Errorf("Decode(%.40q…) = %v, want ErrBadMessage", s, err)
		}
	}
}
