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

// MarshalJSON follows Twilio's helper libraries: "incoming" appears only when
// allowed, and "outgoing" (with its params) only with an application SID.
func (v VoiceGrant) MarshalJSON() ([]byte, error) {
	return v.AppendJSON(make([]byte, 0, 128))
}

// AppendJSON appends what MarshalJSON returns. Params' values are written
// by jsonlite.AppendAny, which knows the types JSON decodes to (nil, bool,
// float64, string, []any, map[string]any) and int, int64 and float32; any
// other type is an error, and params are the only part that can fail.
func (v VoiceGrant) AppendJSON(b []byte) ([]byte, error) {
	o := jsonlite.OpenObject(b)
	if v.Incoming != nil && v.Incoming.Allow {
		o.Key("incoming")
		o.B = append(o.B, `{"allow":true}`...)
	}
	if out := v.Outgoing; out != nil && out.ApplicationSID != "" {
		o.Key("outgoing")
		in := jsonlite.OpenObject(o.B)
		in.String("application_sid", out.ApplicationSID)
		if len(out.Params) > 0 {
			in.Key("params")
			var err error
			if in.B, err = jsonlite.AppendAny(in.B, out.Params); err != nil {
				return b, err
			}
		}
		o.B = in.Close()
	}
	o.StringOmitEmpty("push_credential_sid", v.PushCredentialSID)
	o.StringOmitEmpty("endpoint_id", v.EndpointID)
	return o.Close(), nil
}
