package token

import (
	"strconv"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// The MarshalJSON methods below write by hand exactly what json.Marshal
// wrote by reflection from the json tags: fields in declaration order,
// omitempty honoured, maps with sorted keys. Minted tokens must not change
// by a byte (server/mint compares them with golang-jwt's and twilio-go's),
// and fuzz_oracle_test.go compares every method with encoding/json.

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

func (o *object) int(k string, n int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, n, 10)
}

func (o *object) close() []byte { return append(o.b, '}') }

// MarshalJSON writes the header as its json tags say: every field omitted
// when empty.
func (h Header) MarshalJSON() ([]byte, error) {
	o := open(make([]byte, 0, 64))
	o.optStr("typ", h.Typ)
	o.optStr("alg", h.Alg)
	o.optStr("cty", h.Cty)
	o.optStr("twr", h.Twr)
	return o.close(), nil
}

// MarshalJSON writes the claims as their json tags say: jti, grants, iss,
// exp and sub always, nbf and iat unless zero.
func (c Claims) MarshalJSON() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 256))
}

func (c *Claims) appendJSON(b []byte) ([]byte, error) {
	o := open(b)
	o.str("jti", c.JTI)
	o.key("grants")
	var err error
	if o.b, err = c.Grants.appendJSON(o.b); err != nil {
		return nil, err
	}
	o.str("iss", c.Iss)
	o.int("exp", c.Exp)
	if c.Nbf != 0 {
		o.int("nbf", c.Nbf)
	}
	if c.Iat != 0 {
		o.int("iat", c.Iat)
	}
	o.str("sub", c.Sub)
	return o.close(), nil
}

// MarshalJSON writes the grants present, in declaration order; Unknown is
// never written. Player's values (and voice params) are written by
// jsonlite.AppendAny, which knows the types JSON decodes to (nil, bool,
// float64, string, []any, map[string]any) and int, int64, float32; any
// other type is an error.
func (g Grants) MarshalJSON() ([]byte, error) {
	return g.appendJSON(make([]byte, 0, 128))
}

func (g *Grants) appendJSON(b []byte) ([]byte, error) {
	o := open(b)
	o.optStr(KeyIdentity, g.Identity)
	if v := g.Video; v != nil {
		o.key(KeyVideo)
		in := open(o.b)
		in.optStr("room", v.Room)
		o.b = in.close()
	}
	for _, c := range [...]struct {
		key string
		g   *ChatGrant
	}{{KeyChat, g.Chat}, {KeyIPMessaging, g.IPMessaging}} {
		if c.g != nil {
			o.key(c.key)
			in := open(o.b)
			in.optStr("service_sid", c.g.ServiceSID)
			in.optStr("endpoint_id", c.g.EndpointID)
			in.optStr("deployment_role_sid", c.g.DeploymentRoleSID)
			in.optStr("push_credential_sid", c.g.PushCredentialSID)
			o.b = in.close()
		}
	}
	if s := g.Sync; s != nil {
		o.key(KeySync)
		in := open(o.b)
		in.optStr("service_sid", s.ServiceSID)
		in.optStr("endpoint_id", s.EndpointID)
		o.b = in.close()
	}
	if v := g.Voice; v != nil {
		o.key(KeyVoice)
		var err error
		if o.b, err = v.appendJSON(o.b); err != nil {
			return nil, err
		}
	}
	if t := g.TaskRouter; t != nil {
		o.key(KeyTaskRouter)
		in := open(o.b)
		in.optStr("workspace_sid", t.WorkspaceSID)
		in.optStr("worker_sid", t.WorkerSID)
		in.optStr("role", t.Role)
		o.b = in.close()
	}
	if len(g.Player) > 0 {
		o.key(KeyPlayer)
		var err error
		if o.b, err = jsonlite.AppendAny(o.b, g.Player); err != nil {
			return nil, err
		}
	}
	if r := g.RTC; r != nil {
		o.key(KeyRTC)
		in := open(o.b)
		in.optStr("configuration_profile_sid", r.ConfigurationProfileSID)
		o.b = in.close()
	}
	return o.close(), nil
}

// MarshalJSON follows Twilio's helper libraries: "incoming" appears only when
// allowed, and "outgoing" (with its params) only with an application SID.
func (v VoiceGrant) MarshalJSON() ([]byte, error) {
	return v.appendJSON(make([]byte, 0, 64))
}

func (v *VoiceGrant) appendJSON(b []byte) ([]byte, error) {
	o := open(b)
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
