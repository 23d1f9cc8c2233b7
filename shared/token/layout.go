package token

import "github.com/tokenlab/tokenlab/shared/jsonlite"

// The layout of a token's JSON: every key of the header, the claims and
// each grant, in the order Twilio's libraries (and encoding/json, from the
// json tags, which layout_test.go holds to these tables) write them, bound
// to the field that holds it. Decoding, encoding (MarshalJSON, which the
// server's encoding/json and sessions go through, and AppendJSON, the mint
// fast path's) all read these tables, and nothing else spells the keys.

var (
	headerFields = jsonlite.Binding[Header]{Fields: []jsonlite.Field[Header]{
		jsonlite.StringField("typ", func(h *Header) *string { return &h.Typ }),
		jsonlite.StringField("alg", func(h *Header) *string { return &h.Alg }),
		jsonlite.StringField("cty", func(h *Header) *string { return &h.Cty }),
		jsonlite.StringField("twr", func(h *Header) *string { return &h.Twr }),
	}}
	claimsFields = jsonlite.Binding[Claims]{Fields: []jsonlite.Field[Claims]{
		jsonlite.StringField("jti", func(c *Claims) *string { return &c.JTI }),
		{Key: "grants", Read: func(c *Claims, v jsonlite.Value, at jsonlite.At) error { return c.Grants.read(v, at) }},
		jsonlite.StringField("iss", func(c *Claims) *string { return &c.Iss }),
		jsonlite.IntField("exp", func(c *Claims) *int64 { return &c.Exp }),
		jsonlite.IntField("nbf", func(c *Claims) *int64 { return &c.Nbf }),
		jsonlite.IntField("iat", func(c *Claims) *int64 { return &c.Iat }),
		jsonlite.StringField("sub", func(c *Claims) *string { return &c.Sub }),
	}}

	grantsFields = jsonlite.Binding[Grants]{Unknown: keepUnknown, Fields: []jsonlite.Field[Grants]{
		jsonlite.StringField(KeyIdentity, func(g *Grants) *string { return &g.Identity }),
		jsonlite.ObjectField(KeyVideo, func(g *Grants) **VideoGrant { return &g.Video }, &videoFields),
		jsonlite.ObjectField(KeyChat, func(g *Grants) **ChatGrant { return &g.Chat }, &chatFields),
		jsonlite.ObjectField(KeyIPMessaging, func(g *Grants) **ChatGrant { return &g.IPMessaging }, &chatFields),
		jsonlite.ObjectField(KeySync, func(g *Grants) **SyncGrant { return &g.Sync }, &syncFields),
		jsonlite.ObjectField(KeyVoice, func(g *Grants) **VoiceGrant { return &g.Voice }, &voiceFields),
		jsonlite.ObjectField(KeyTaskRouter, func(g *Grants) **TaskRouterGrant { return &g.TaskRouter }, &taskRouterFields),
		jsonlite.MapField(KeyPlayer, func(g *Grants) *map[string]any { return &g.Player }),
		jsonlite.ObjectField(KeyRTC, func(g *Grants) **RTCGrant { return &g.RTC }, &rtcFields),
	}}
	videoFields = jsonlite.Binding[VideoGrant]{Fields: []jsonlite.Field[VideoGrant]{
		jsonlite.StringField("room", func(v *VideoGrant) *string { return &v.Room }),
	}}
	chatFields = jsonlite.Binding[ChatGrant]{Fields: []jsonlite.Field[ChatGrant]{
		jsonlite.StringField("service_sid", func(c *ChatGrant) *string { return &c.ServiceSID }),
		jsonlite.StringField("endpoint_id", func(c *ChatGrant) *string { return &c.EndpointID }),
		jsonlite.StringField("deployment_role_sid", func(c *ChatGrant) *string { return &c.DeploymentRoleSID }),
		jsonlite.StringField("push_credential_sid", func(c *ChatGrant) *string { return &c.PushCredentialSID }),
	}}
	syncFields = jsonlite.Binding[SyncGrant]{Fields: []jsonlite.Field[SyncGrant]{
		jsonlite.StringField("service_sid", func(s *SyncGrant) *string { return &s.ServiceSID }),
		jsonlite.StringField("endpoint_id", func(s *SyncGrant) *string { return &s.EndpointID }),
	}}
	// Voice follows Twilio's helper libraries: "incoming" is written only
	// when allowed, and "outgoing" (with its params) only with an
	// application SID.
	voiceFields = jsonlite.Binding[VoiceGrant]{Fields: []jsonlite.Field[VoiceGrant]{
		writeIf(jsonlite.ObjectField("incoming", func(v *VoiceGrant) **VoiceIncoming { return &v.Incoming }, &incomingFields),
			func(v *VoiceGrant) bool { return v.Incoming != nil && v.Incoming.Allow }),
		writeIf(jsonlite.ObjectField("outgoing", func(v *VoiceGrant) **VoiceOutgoing { return &v.Outgoing }, &outgoingFields),
			func(v *VoiceGrant) bool { return v.Outgoing != nil && v.Outgoing.ApplicationSID != "" }),
		jsonlite.StringField("push_credential_sid", func(v *VoiceGrant) *string { return &v.PushCredentialSID }),
		jsonlite.StringField("endpoint_id", func(v *VoiceGrant) *string { return &v.EndpointID }),
	}}
	incomingFields = jsonlite.Binding[VoiceIncoming]{Fields: []jsonlite.Field[VoiceIncoming]{
		jsonlite.BoolField("allow", func(v *VoiceIncoming) *bool { return &v.Allow }),
	}}
	outgoingFields = jsonlite.Binding[VoiceOutgoing]{Fields: []jsonlite.Field[VoiceOutgoing]{
		jsonlite.StringField("application_sid", func(v *VoiceOutgoing) *string { return &v.ApplicationSID }),
		jsonlite.MapField("params", func(v *VoiceOutgoing) *map[string]any { return &v.Params }),
	}}
	taskRouterFields = jsonlite.Binding[TaskRouterGrant]{Fields: []jsonlite.Field[TaskRouterGrant]{
		jsonlite.StringField("workspace_sid", func(t *TaskRouterGrant) *string { return &t.WorkspaceSID }),
		jsonlite.StringField("worker_sid", func(t *TaskRouterGrant) *string { return &t.WorkerSID }),
		jsonlite.StringField("role", func(t *TaskRouterGrant) *string { return &t.Role }),
	}}
	rtcFields = jsonlite.Binding[RTCGrant]{Fields: []jsonlite.Field[RTCGrant]{
		jsonlite.StringField("configuration_profile_sid", func(r *RTCGrant) *string { return &r.ConfigurationProfileSID }),
	}}
)

// keepUnknown keeps a grant key Twilio does not define, with its raw JSON,
// for lint to report; it is never minted.
func keepUnknown(g *Grants, key string, v jsonlite.Value, _ jsonlite.At) error {
	if g.Unknown == nil {
		g.Unknown = make(map[string][]byte)
	}
	g.Unknown[key] = append([]byte(nil), v.Raw...)
	return nil
}

// writeIf writes f only when cond holds.
func writeIf[T any](f jsonlite.Field[T], cond func(*T) bool) jsonlite.Field[T] {
	write := f.Write
	f.Write = func(t *T, o *jsonlite.ObjectWriter) error {
		if !cond(t) {
			return nil
		}
		return write(t, o)
	}
	return f
}

// read decodes the grants object v, found at at, into g.
func (g *Grants) read(v jsonlite.Value, at jsonlite.At) error {
	return readInto(&grantsFields, g, v, at, "an object of grants")
}

// AppendJSON appends g's JSON: the known grants in Grants' field order,
// empty ones left out, never Unknown. Only params and player, free-form
// values, can fail to encode (see jsonlite.AppendAny).
func (g *Grants) AppendJSON(b []byte) ([]byte, error) {
	o := jsonlite.OpenObject(b)
	if err := grantsFields.Append(&o, g); err != nil {
		return b, err
	}
	return o.Close(), nil
}

// MarshalJSON writes what AppendJSON appends, so that the server's
// encoding/json (golang-jwt, sessions) writes grants from the same table.
func (g Grants) MarshalJSON() ([]byte, error) { return g.AppendJSON(make([]byte, 0, 256)) }

// UnmarshalJSON reads grants as Decode does: keys exactly as spelled and
// each once, unknown grant keys kept in Unknown, unknown keys inside a
// grant skipped (lint reports them).
func (g *Grants) UnmarshalJSON(data []byte) error { return unmarshal(data, g.read) }

// MarshalJSON writes the voice grant as Twilio's libraries do.
func (v VoiceGrant) MarshalJSON() ([]byte, error) {
	o := jsonlite.OpenObject(make([]byte, 0, 128))
	if err := voiceFields.Append(&o, &v); err != nil {
		return nil, err
	}
	return o.Close(), nil
}

// UnmarshalJSON reads the header's keys exactly as spelled.
func (h *Header) UnmarshalJSON(data []byte) error {
	return unmarshal(data, func(v jsonlite.Value, at jsonlite.At) error { return readInto(&headerFields, h, v, at, "an object") })
}

// UnmarshalJSON reads the claims' keys exactly as spelled: a token whose
// expiry is under "EXP" has no exp as far as Twilio is concerned.
func (c *Claims) UnmarshalJSON(data []byte) error {
	return unmarshal(data, func(v jsonlite.Value, at jsonlite.At) error { return readInto(&claimsFields, c, v, at, "an object") })
}

// lenient reads on past unknown keys inside known objects: a token is
// shown, and linted, whatever else it carries.
var lenient = jsonlite.At{Unknown: func(string, string) {}}

func unmarshal(data []byte, read func(jsonlite.Value, jsonlite.At) error) error {
	v, err := jsonlite.Parse(data)
	if err != nil {
		return err
	}
	return read(v, lenient)
}

// readInto reads the object v into *t through b, leaving t as it was on
// an error or for null; want says what else v should have been.
func readInto[T any](b *jsonlite.Binding[T], t *T, v jsonlite.Value, at jsonlite.At, want string) error {
	if v.Kind != jsonlite.Object {
		if v.Kind == jsonlite.Null {
			return nil
		}
		return jsonlite.Expected(v, at, want)
	}
	var n T
	if err := b.Read(&n, v, at); err != nil {
		return err
	}
	*t = n
	return nil
}
