package token

import "github.com/tokenlab/tokenlab/shared/jsonlite"

// VoiceGrant's MarshalJSON writes by hand exactly what it wrote through
// json.Marshal: fields in declaration order, omitempty honoured, params
// with sorted keys. Minted tokens must not change by a byte (server/mint
// compares them with golang-jwt's and twilio-go's), and
// fuzz_oracle_test.go compares it with the encoding/json version.
//
// Header, Claims and Grants have no MarshalJSON, on purpose: the server
// marshals them with encoding/json, from their json tags, and a
// MarshalJSON method would make encoding/json re-scan and compact its
// output, which measured slower than its reflective encoding
// (BenchmarkMarshalClaims). The page never marshals them.

// object appends the members of one JSON object.
type object struct {
	b     []byte
	first bool
}

func open(b []byte) object { return object{b: append(b, '{'), first: true} }

// key starts a member; k is one of this package's keys, which need no
// escaping.
func (o *object) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *object) str(k, v string) {
	o.key(k)
	o.b = jsonlite.AppendString(o.b, v)
}

// optStr writes a string member unless it is empty (omitempty).
func (o *object) optStr(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *object) close() []byte { return append(o.b, '}') }

// MarshalJSON follows Twilio's helper libraries: "incoming" appears only when
// allowed, and "outgoing" (with its params) only with an application SID.
// Params' values are written by jsonlite.AppendAny, which knows the types
// JSON decodes to (nil, bool, float64, string, []any, map[string]any) and
// int, int64 and float32; any other type is an error.
func (v VoiceGrant) MarshalJSON() ([]byte, error) {
	o := open(make([]byte, 0, 128))
	if v.Incoming != nil && v.Incoming.Allow {
		o.key("incoming")
		o.b = append(o.b, `{"allow":true}`...)
	}
	if out := v.Outgoing; out != nil && out.ApplicationSID != "" {
		o.key("outgoing")
		in := open(o.b)
		in.str("application_sid", out.ApplicationSID)
		if len(out.Params) > 0 {
			in.key("params")
			var err error
			if in.b, err = jsonlite.AppendAny(in.b, out.Params); err != nil {
				return nil, err
			}
		}
		o.b = in.close()
	}
	o.optStr("push_credential_sid", v.PushCredentialSID)
	o.optStr("endpoint_id", v.EndpointID)
	return o.close(), nil
}
