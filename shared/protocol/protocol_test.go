package protocol_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

func TestDecodeEveryType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want protocol.Message
	}{
		{"hello", `{"type":"hello","server_time_ms":1700000000000,"token":"","jti":"SK1-1","exp":1700003600,"identity":"alice","lead_ms":60000,"session_exp_ms":1700086400000}`,
			protocol.Message{Type: protocol.TypeHello, ServerTimeMS: 1700000000000, JTI: "SK1-1", Exp: 1700003600, Identity: "alice", LeadMS: 60000, SessionExpMS: 1700086400000}},
		{"expiring", `{"type":"expiring","server_time_ms":5,"jti":"SK1-1","exp":1700003600,"lead_ms":60000}`,
			protocol.Message{Type: protocol.TypeExpiring, ServerTimeMS: 5, JTI: "SK1-1", Exp: 1700003600, LeadMS: 60000}},
		{"expired", `{"type":"expired","jti":"SK1-1","exp":1700003600}`,
			protocol.Message{Type: protocol.TypeExpired, JTI: "SK1-1", Exp: 1700003600}},
		{"token", `{"type":"token","id":"r1","token":"a.b.c","jti":"SK1-2","exp":1700007200,"identity":"alice","reason":"renewed"}`,
			protocol.Message{Type: protocol.TypeToken, ID: "r1", Token: "a.b.c", JTI: "SK1-2", Exp: 1700007200, Identity: "alice", Reason: "renewed"}},
		{"revoked", `{"type":"revoked","reason":"logout"}`, protocol.Message{Type: protocol.TypeRevoked, Reason: "logout"}},
		{"error", `{"type":"error","id":"r1","code":"renew_failed","message":"try again"}`,
			protocol.Message{Type: protocol.TypeError, ID: "r1", Code: protocol.ErrCodeRenewFailed, Text: "try again"}},
		{"renew", `{"type":"renew","id":"r1"}`, protocol.Message{Type: protocol.TypeRenew, ID: "r1"}},
		{"renew without id", `{"type":"renew"}`, protocol.Message{Type: protocol.TypeRenew}},
		{"ping", `{"type":"ping","id":"p"}`, protocol.Message{Type: protocol.TypePing, ID: "p"}},
		{"pong", `{"type":"pong","id":"p","server_time_ms":1}`, protocol.Message{Type: protocol.TypePong, ID: "p", ServerTimeMS: 1}},
		{"white space around", " \n{\"type\":\"ping\"}\r\n\t", protocol.Message{Type: protocol.TypePing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tt.want {
				t.Errorf("Decode =\n %+v\nwant\n %+v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate(decoded) = %v", err)
			}
			again, err := protocol.Decode(protocol.Encode(got))
			if err != nil || again != got {
				t.Errorf("Decode(Encode(m)) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		contains string
	}{
		// Missing fields, per type.
		{"no type", `{"id":"x"}`, `"type" field is missing`},
		{"empty type", `{"type":""}`, `"type" field is missing`},
		{"hello without server time", `{"type":"hello","jti":"j"}`, `"hello" message needs "server_time_ms"`},
		{"pong without server time", `{"type":"pong","id":"p"}`, `"pong" message needs "server_time_ms"`},
		{"expiring without jti", `{"type":"expiring","exp":1}`, `"expiring" message needs "jti"`},
		{"expiring without exp", `{"type":"expiring","jti":"j"}`, `"expiring" message needs "exp"`},
		{"expired without jti", `{"type":"expired","exp":1}`, `"expired" message needs "jti"`},
		{"expired with exp zero", `{"type":"expired","jti":"j","exp":0}`, `"expired" message needs "exp"`},
		{"token without token", `{"type":"token","jti":"j"}`, `"token" message needs "token"`},
		{"revoked without reason", `{"type":"revoked"}`, `"revoked" message needs "reason"`},
		{"error without code", `{"type":"error","message":"m"}`, `"error" message needs "code"`},

		// Unknown fields and types.
		{"unknown field", `{"type":"ping","foo":1}`, `"foo" is not a known field (known: type, id,`},
		{"unknown type", `{"type":"subscribe"}`, `unknown type "subscribe"`},

		// Keys are exact: encoding/json alone would read these as "type"
		// and "id", so a frame the documented protocol does not allow
		// would pass. A key given twice is refused: another reader of
		// the frame might take the other value.
		{"type given twice", `{"type":"ping","type":"renew"}`, `"type" is given more than once`},
		{"id given twice, same value", `{"type":"ping","id":"a","id":"a"}`, `"id" is given more than once`},
		{"type in capitals", `{"TYPE":"ping"}`, `"TYPE" is not a known field: keys are case-sensitive snake_case, write "type"`},
		{"type capitalised", `{"Type":"renew","id":"r"}`, `"Type" is not a known field: keys are case-sensitive snake_case, write "type"`},
		{"id in capitals", `{"type":"ping","ID":"p"}`, `"ID" is not a known field: keys are case-sensitive snake_case, write "id"`},
		{"exact key shadowed by a folded one", `{"type":"ping","tYpe":"renew"}`, `"tYpe" is not a known field: keys are case-sensitive snake_case, write "type"`},
		{"Kelvin sign folds to k", `{"type":"token","to\u212aen":"a.b.c"}`, `"to\u212aen" is not a known field`},

		// Wrong types.
		{"type a number", `{"type":5}`, `"type" must be a string, not the number 5`},
		{"server time a string", `{"type":"hello","server_time_ms":"now"}`, `"server_time_ms" must be a whole number, not a string`},
		{"exp with a fraction", `{"type":"expiring","jti":"j","exp":1.5}`, `"exp" must be a whole number, not the number 1.5`},
		{"id an object", `{"type":"ping","id":{}}`, `"id" must be a string, not an object`},

		// Not one JSON object.
		{"empty frame", ``, "the frame is empty"},
		{"binary garbage", "\x00\xff\xfe", "not valid UTF-8"},
		{"invalid UTF-8 in a string", "{\"type\":\"ping\",\"id\":\"\xff\"}", "not valid UTF-8"},
		{"a lone surrogate half, encoded", "{\"type\":\"ping\",\"id\":\"\xed\xa0\x80\"}", "not valid UTF-8"},
		{"truncated", `{"type":"ping"`, "not valid JSON (unexpected end of JSON input)"},
		{"null", `null`, `"type" field is missing`},
		{"array", `[{"type":"ping"}]`, "must be an object, not an array"},
		{"string", `"ping"`, "must be an object, not a string"},
		{"two values", `{"type":"ping"}{"type":"ping"}`, "not valid JSON (invalid character"},
		{"trailing text", `{"type":"ping"} x`, "not valid JSON (invalid character"},
		{"trailing brace", `{"type":"ping"}}`, "not valid JSON (invalid character"},
		{"trailing bracket", `{"type":"ping"}]`, "not valid JSON (invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := protocol.Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tt.in, m)
			}
			if !errors.Is(err, protocol.ErrBadMessage) {
				t.Errorf("error %q does not wrap ErrBadMessage", err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			if m != (protocol.Message{}) {
				t.Errorf("Decode returned %+v with its error", m)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		m     protocol.Message
		field string // "" means valid
	}{
		{"hello", protocol.Message{Type: protocol.TypeHello, ServerTimeMS: 1}, ""},
		{"hello bare", protocol.Message{Type: protocol.TypeHello}, "server_time_ms"},
		{"pong", protocol.Message{Type: protocol.TypePong, ServerTimeMS: 1}, ""},
		{"pong bare", protocol.Message{Type: protocol.TypePong}, "server_time_ms"},
		{"expiring", protocol.Message{Type: protocol.TypeExpiring, JTI: "j", Exp: 1}, ""},
		{"expiring bare", protocol.Message{Type: protocol.TypeExpiring}, "jti"},
		{"expired without exp", protocol.Message{Type: protocol.TypeExpired, JTI: "j"}, "exp"},
		{"token", protocol.Message{Type: protocol.TypeToken, Token: "t"}, ""},
		{"token bare", protocol.Message{Type: protocol.TypeToken}, "token"},
		{"revoked", protocol.Message{Type: protocol.TypeRevoked, Reason: "operator"}, ""},
		{"revoked bare", protocol.Message{Type: protocol.TypeRevoked}, "reason"},
		{"error", protocol.Message{Type: protocol.TypeError, Code: protocol.ErrCodeBadMessage}, ""},
		{"error bare", protocol.Message{Type: protocol.TypeError}, "code"},
		{"renew", protocol.Message{Type: protocol.TypeRenew}, ""},
		{"ping", protocol.Message{Type: protocol.TypePing}, ""},
		{"no type", protocol.Message{ID: "x"}, "type"},
		{"unknown type", protocol.Message{Type: "HELLO", ServerTimeMS: 1}, "HELLO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, protocol.ErrBadMessage) || !strings.Contains(err.Error(), `"`+tt.field+`"`) {
				t.Errorf("Validate = %v, want ErrBadMessage naming %q", err, tt.field)
			}
		})
	}
}

// Encode leaves empty fields out, so each message carries only what its
// type uses.
func TestEncodeShape(t *testing.T) {
	tests := []struct {
		m    protocol.Message
		want string
	}{
		{protocol.Message{Type: protocol.TypePing}, `{"type":"ping"}`},
		{protocol.Message{Type: protocol.TypeExpiring, ServerTimeMS: 2, JTI: "j", Exp: 3, LeadMS: 4}, `{"type":"expiring","server_time_ms":2,"jti":"j","exp":3,"lead_ms":4}`},
		{protocol.Message{Type: protocol.TypeError, Code: "rate_limited", Text: "slow down"}, `{"type":"error","code":"rate_limited","message":"slow down"}`},
	}
	for _, tt := range tests {
		t.Run(tt.m.Type, func(t *testing.T) {
			if got := string(protocol.Encode(tt.m)); got != tt.want {
				t.Errorf("Encode = %s, want %s", got, tt.want)
			}
			var generic map[string]any
			if err := json.Unmarshal(protocol.Encode(tt.m), &generic); err != nil {
				t.Fatal(err)
			}
			for k, v := range generic {
				if reflect.ValueOf(v).IsZero() {
					t.Errorf("field %q is sent empty", k)
				}
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	tests := []struct {
		code int
		want bool
	}{
		{protocol.CloseRevoked, true},
		{protocol.CloseSessionExpired, true},
		{protocol.CloseTooMany, false},
		{protocol.CloseRateLimited, false},
		{1000, false}, {1001, false}, {1006, false}, {1008, false},
	}
	for _, tt := range tests {
		if got := protocol.Terminal(tt.code); got != tt.want {
			t.Errorf("Terminal(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
