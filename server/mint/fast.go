package mint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strconv"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// The fast path signs the tokens of the common grants without golang-jwt's
// per-token work, which profiling showed to be 15–20 times the HMAC
// itself: marshalling the header map through reflection, a new HMAC (two
// SHA-256 states) per token, base64 into fresh strings. Here the header
// segment is encoded once per Minter, the claims are appended by hand,
// and each token reuses a pooled buffer and HMAC. Its output is
// byte-for-byte golang-jwt's (fast_test.go proves it, signature included,
// across grant combinations and awkward strings); claims it cannot write
// by hand (voice params, player) go through golang-jwt.

// signer holds what never changes between the tokens of one Minter.
type signer struct {
	header string // the header segment, base64url, as golang-jwt encodes it
	key    []byte
	pool   sync.Pool // of *signState
}

// signState is one token's scratch space, reused through the pool.
type signState struct {
	mac  hash.Hash
	json []byte   // the claims JSON
	out  []byte   // header.payload.signature
	sum  [32]byte // the HMAC, kept here so that Sum does not allocate
}

func newSigner(key []byte, header map[string]any) (*signer, error) {
	h, err := json.Marshal(header) // what golang-jwt's SigningString does
	if err != nil {
		return nil, err
	}
	s := &signer{header: base64.RawURLEncoding.EncodeToString(h), key: key}
	s.pool.New = func() any {
		return &signState{mac: hmac.New(sha256.New, s.key), json: make([]byte, 0, 512), out: make([]byte, 0, 1024)}
	}
	return s, nil
}

// sign returns the signed token for c and true, or false when c holds a
// grant the fast path does not write (the caller then uses golang-jwt).
func (s *signer) sign(c *token.Claims) (string, bool) {
	if !fastGrants(&c.Grants) {
		return "", false
	}
	st := s.pool.Get().(*signState)
	defer s.pool.Put(st)
	st.json = appendClaims(st.json[:0], c)

	enc := base64.RawURLEncoding
	out := append(st.out[:0], s.header...)
	out = append(out, '.')
	out = enc.AppendEncode(out, st.json)
	st.mac.Reset()
	st.mac.Write(out)
	out = append(out, '.')
	out = enc.AppendEncode(out, st.mac.Sum(st.sum[:0]))
	st.out = out
	return string(out), true
}

// jwtHeader is the header golang-jwt is given for a region ("" for none).
func jwtHeader(region string) map[string]any {
	t := jwt.New(jwt.SigningMethodHS256)
	t.Header["typ"] = token.TypeJWT
	t.Header["cty"] = token.ContentTypeFPA
	if region != "" {
		t.Header["twr"] = region
	}
	return t.Header
}

// fastGrants reports whether appendGrants writes g exactly as
// encoding/json would: everything but voice parameters and player, whose
// free-form maps are left to encoding/json.
func fastGrants(g *token.Grants) bool {
	if len(g.Player) > 0 || len(g.Unknown) > 0 {
		return false
	}
	if v := g.Voice; v != nil && v.Outgoing != nil && v.Outgoing.ApplicationSID != "" && len(v.Outgoing.Params) > 0 {
		return false
	}
	return true
}

// appendClaims appends c as encoding/json marshals token.Claims: fields in
// declaration order, omitempty honoured.
func appendClaims(b []byte, c *token.Claims) []byte {
	b = append(b, `{"jti":`...)
	b = jsonlite.AppendString(b, c.JTI)
	b = append(b, `,"grants":`...)
	b = appendGrants(b, &c.Grants)
	b = append(b, `,"iss":`...)
	b = jsonlite.AppendString(b, c.Iss)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Exp, 10)
	if c.Nbf != 0 {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.Nbf, 10)
	}
	if c.Iat != 0 {
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, c.Iat, 10)
	}
	b = append(b, `,"sub":`...)
	b = jsonlite.AppendString(b, c.Sub)
	return append(b, '}')
}

// object appends the members of one JSON object, skipping empty strings
// as omitempty does.
type object struct {
	b     []byte
	first bool
}

func open(b []byte) object { return object{b: append(b, '{'), first: true} }

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
	if v != "" {
		o.key(k)
		o.b = jsonlite.AppendString(o.b, v)
	}
}

func (o *object) close() []byte { return append(o.b, '}') }

// appendGrants appends g, which fastGrants accepted, in Grants' field order.
func appendGrants(b []byte, g *token.Grants) []byte {
	o := open(b)
	o.str(token.KeyIdentity, g.Identity)
	if v := g.Video; v != nil {
		o.key(token.KeyVideo)
		in := open(o.b)
		in.str("room", v.Room)
		o.b = in.close()
	}
	for _, c := range []struct {
		key string
		g   *token.ChatGrant
	}{{token.KeyChat, g.Chat}, {token.KeyIPMessaging, g.IPMessaging}} {
		if c.g != nil {
			o.key(c.key)
			in := open(o.b)
			in.str("service_sid", c.g.ServiceSID)
			in.str("endpoint_id", c.g.EndpointID)
			in.str("deployment_role_sid", c.g.DeploymentRoleSID)
			in.str("push_credential_sid", c.g.PushCredentialSID)
			o.b = in.close()
		}
	}
	if s := g.Sync; s != nil {
		o.key(token.KeySync)
		in := open(o.b)
		in.str("service_sid", s.ServiceSID)
		in.str("endpoint_id", s.EndpointID)
		o.b = in.close()
	}
	if v := g.Voice; v != nil {
		o.key(token.KeyVoice)
		o.b = appendVoice(o.b, v)
	}
	if t := g.TaskRouter; t != nil {
		o.key(token.KeyTaskRouter)
		in := open(o.b)
		in.str("workspace_sid", t.WorkspaceSID)
		in.str("worker_sid", t.WorkerSID)
		in.str("role", t.Role)
		o.b = in.close()
	}
	if r := g.RTC; r != nil {
		o.key(token.KeyRTC)
		in := open(o.b)
		in.str("configuration_profile_sid", r.ConfigurationProfileSID)
		o.b = in.close()
	}
	return o.close()
}

// appendVoice follows token.VoiceGrant.MarshalJSON: "incoming" only when
// allowed, "outgoing" only with an application SID (and, on this path,
// without params).
func appendVoice(b []byte, v *token.VoiceGrant) []byte {
	o := open(b)
	if v.Incoming != nil && v.Incoming.Allow {
		o.key("incoming")
		o.b = append(o.b, `{"allow":true}`...)
	}
	if v.Outgoing != nil && v.Outgoing.ApplicationSID != "" {
		o.key("outgoing")
		in := open(o.b)
		in.str("application_sid", v.Outgoing.ApplicationSID)
		o.b = in.close()
	}
	o.str("push_credential_sid", v.PushCredentialSID)
	o.str("endpoint_id", v.EndpointID)
	return o.close()
}
