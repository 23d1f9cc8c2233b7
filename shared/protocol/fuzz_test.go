package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// exactKeys are Message's JSON keys as docs/protocol.md spells them.
var exactKeys = map[string]bool{"type": true, "id": true, "server_time_ms": true, "token": true, "jti": true,
	"exp": true, "identity": true, "lead_ms": true, "session_exp_ms": true, "reason": true, "code": true, "message": true}

// FuzzDecodeMessage checks that Decode never panics, that it accepts only
// one valid JSON object whose message passes Validate, that its errors wrap
// ErrBadMessage, and that an accepted message survives Encode and Decode
// unchanged.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","server_time_ms":1700000000000,"jti":"SK1-1","exp":1700003600,"identity":"alice","lead_ms":60000,"session_exp_ms":1700086400000}`,
		`{"type":"expiring","jti":"j","exp":1}`,
		`{"type":"expired","jti":"j","exp":1}`,
		`{"type":"token","token":"a.b.c","reason":"renewed"}`,
		`{"type":"revoked","reason":"operator"}`,
		`{"type":"error","code":"bad_message","message":"m"}`,
		`{"type":"renew","id":"r"}`,
		`{"type":"ping"}`,
		`{"type":"pong","server_time_ms":1}`,
		`{"type":"ping"}}`,
		`{"type":"ping","foo":1}`,
		`{"TYPE":"ping"}`,
		`{"type":"ping","tYpe":"renew"}`,
		`{"type":"ping","id":"\ud800"}`,
		"\x00\xff",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := protocol.Decode(data)
		if err != nil {
			if !errors.Is(err, protocol.ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			if m != (protocol.Message{}) {
				t.Fatalf("Decode returned %+v with its error", m)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("Decode accepted invalid UTF-8 %q", data)
		}
		if !json.Valid(data) {
			t.Fatalf("Decode accepted invalid JSON %q", data)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode accepted %+v, which Validate refuses: %v", m, err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(data, &keys); err != nil {
			t.Fatalf("Decode accepted %q, which is not an object: %v", data, err)
		}
		for k := range keys {
			if !exactKeys[k] {
				t.Fatalf("Decode accepted key %q, which is not spelled as documented", k)
			}
		}
		enc := protocol.Encode(m)
		again, err := protocol.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(m)) = %v for %s", err, enc)
		}
		if again != m {
			t.Fatalf("round trip changed the message:\n %+v\n %+v", m, again)
		}
		if string(protocol.Encode(again)) != string(enc) {
			t.Fatalf("Encode is not stable: %s", enc)
		}
	})
}
