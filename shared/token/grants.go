package token

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// Grant keys as they appear in a token's "grants" object.
const (
	KeyIdentity    = "identity"
	KeyVideo       = "video"
	KeyChat        = "chat"
	KeyIPMessaging = "ip_messaging"
	KeySync        = "data_sync"
	KeyVoice       = "voice"
	KeyTaskRouter  = "task_router"
	KeyPlayer      = "player"
	KeyRTC         = "rtc"
)

// GrantKeys lists every grant Twilio defines, in a stable display order.
var GrantKeys = []string{KeyVideo, KeyChat, KeyIPMessaging, KeySync, KeyVoice, KeyTaskRouter, KeyPlayer, KeyRTC}

// Grants is the "grants" claim: the identity plus one entry per product the
// token opens. Nil entries are absent from the JSON.
type Grants struct {
	Identity    string           `json:"identity,omitempty"`
	Video       *VideoGrant      `json:"video,omitempty"`
	Chat        *ChatGrant       `json:"chat,omitempty"`
	IPMessaging *ChatGrant       `json:"ip_messaging,omitempty"`
	Sync        *SyncGrant       `json:"data_sync,omitempty"`
	Voice       *VoiceGrant      `json:"voice,omitempty"`
	TaskRouter  *TaskRouterGrant `json:"task_router,omitempty"`
	Player      map[string]any   `json:"player,omitempty"`
	RTC         *RTCGrant        `json:"rtc,omitempty"`

	// Unknown holds keys Twilio does not define, each with its raw JSON
	// value. Decoding keeps them so that lint can report them; they are
	// never minted.
	Unknown map[string][]byte `json:"-"`
}

// VideoGrant opens Programmable Video; Room limits it to one room.
type VideoGrant struct {
	Room string `json:"room,omitempty"`
}

// ChatGrant opens Conversations/Chat (also used for legacy "ip_messaging").
type ChatGrant struct {
	ServiceSID        string `json:"service_sid,omitempty"`
	EndpointID        string `json:"endpoint_id,omitempty"`
	DeploymentRoleSID string `json:"deployment_role_sid,omitempty"`
	PushCredentialSID string `json:"push_credential_sid,omitempty"`
}

// SyncGrant opens a Sync service.
type SyncGrant struct {
	ServiceSID string `json:"service_sid,omitempty"`
	EndpointID string `json:"endpoint_id,omitempty"`
}

// VoiceGrant opens Programmable Voice from a client SDK.
type VoiceGrant struct {
	Incoming          *VoiceIncoming `json:"incoming,omitempty"`
	Outgoing          *VoiceOutgoing `json:"outgoing,omitempty"`
	PushCredentialSID string         `json:"push_credential_sid,omitempty"`
	EndpointID        string         `json:"endpoint_id,omitempty"`
}

// VoiceIncoming lets the client receive calls. Twilio's libraries emit it
// only when Allow is true.
type VoiceIncoming struct {
	Allow bool `json:"allow"`
}

// VoiceOutgoing names the TwiML application that handles outgoing calls.
type VoiceOutgoing struct {
	ApplicationSID string         `json:"application_sid,omitempty"`
	Params         map[string]any `json:"params,omitempty"`
}

// TaskRouterGrant opens a TaskRouter workspace, optionally as one worker.
type TaskRouterGrant struct {
	WorkspaceSID string `json:"workspace_sid,omitempty"`
	WorkerSID    string `json:"worker_sid,omitempty"`
	Role         string `json:"role,omitempty"`
}

// RTCGrant is the deprecated Conversations (rtc) grant.
type RTCGrant struct {
	ConfigurationProfileSID string `json:"configuration_profile_sid,omitempty"`
}

// The field tables of the grants, which the hand-written decoder reads
// (see exact.go). Their names are the json tags above; table_test.go
// checks both against each other.
var (
	grantsInfo = structInfo{"Grants", []fieldInfo{
		{KeyIdentity, nil}, {KeyVideo, &videoInfo}, {KeyChat, &chatInfo}, {KeyIPMessaging, &chatInfo},
		{KeySync, &syncInfo}, {KeyVoice, &voiceInfo}, {KeyTaskRouter, &taskRouterInfo}, {KeyPlayer, nil}, {KeyRTC, &rtcInfo},
	}}
	videoInfo = structInfo{"VideoGrant", []fieldInfo{{"room", nil}}}
	chatInfo  = structInfo{"ChatGrant", []fieldInfo{
		{"service_sid", nil}, {"endpoint_id", nil}, {"deployment_role_sid", nil}, {"push_credential_sid", nil},
	}}
	syncInfo  = structInfo{"SyncGrant", []fieldInfo{{"service_sid", nil}, {"endpoint_id", nil}}}
	voiceInfo = structInfo{"VoiceGrant", []fieldInfo{
		{"incoming", &incomingInfo}, {"outgoing", &outgoingInfo}, {"push_credential_sid", nil}, {"endpoint_id", nil},
	}}
	incomingInfo   = structInfo{"VoiceIncoming", []fieldInfo{{"allow", nil}}}
	outgoingInfo   = structInfo{"VoiceOutgoing", []fieldInfo{{"application_sid", nil}, {"params", nil}}}
	taskRouterInfo = structInfo{"TaskRouterGrant", []fieldInfo{{"workspace_sid", nil}, {"worker_sid", nil}, {"role", nil}}}
	rtcInfo        = structInfo{"RTCGrant", []fieldInfo{{"configuration_profile_sid", nil}}}
)

func (g *Grants) slot(key string) any {
	switch key {
	case KeyIdentity:
		return &g.Identity
	case KeyVideo:
		return refTo(&g.Video)
	case KeyChat:
		return refTo(&g.Chat)
	case KeyIPMessaging:
		return refTo(&g.IPMessaging)
	case KeySync:
		return refTo(&g.Sync)
	case KeyVoice:
		return refTo(&g.Voice)
	case KeyTaskRouter:
		return refTo(&g.TaskRouter)
	case KeyPlayer:
		return &g.Player
	case KeyRTC:
		return refTo(&g.RTC)
	}
	return nil
}

func (v *VideoGrant) slot(key string) any {
	if key == "room" {
		return &v.Room
	}
	return nil
}

func (c *ChatGrant) slot(key string) any {
	switch key {
	case "service_sid":
		return &c.ServiceSID
	case "endpoint_id":
		return &c.EndpointID
	case "deployment_role_sid":
		return &c.DeploymentRoleSID
	case "push_credential_sid":
		return &c.PushCredentialSID
	}
	return nil
}

func (s *SyncGrant) slot(key string) any {
	switch key {
	case "service_sid":
		return &s.ServiceSID
	case "endpoint_id":
		return &s.EndpointID
	}
	return nil
}

func (v *VoiceGrant) slot(key string) any {
	switch key {
	case "incoming":
		return refTo(&v.Incoming)
	case "outgoing":
		return refTo(&v.Outgoing)
	case "push_credential_sid":
		return &v.PushCredentialSID
	case "endpoint_id":
		return &v.EndpointID
	}
	return nil
}

func (v *VoiceIncoming) slot(key string) any {
	if key == "allow" {
		return &v.Allow
	}
	return nil
}

func (v *VoiceOutgoing) slot(key string) any {
	switch key {
	case "application_sid":
		return &v.ApplicationSID
	case "params":
		return &v.Params
	}
	return nil
}

func (t *TaskRouterGrant) slot(key string) any {
	switch key {
	case "workspace_sid":
		return &t.WorkspaceSID
	case "worker_sid":
		return &t.WorkerSID
	case "role":
		return &t.Role
	}
	return nil
}

func (r *RTCGrant) slot(key string) any {
	if key == "configuration_profile_sid" {
		return &r.ConfigurationProfileSID
	}
	return nil
}

// UnmarshalJSON decodes the known grants, reading keys exactly as spelled,
// and keeps unknown keys in Unknown. A type error names the grant's field
// ("video.room"), as encoding/json's did.
func (g *Grants) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	v, err := jsonlite.Parse(data)
	if err != nil {
		return err
	}
	return g.decode(v, false)
}

// decode reads the grants object v, key by key in key order, stopping at
// the first grant with a type error. compact says whether to keep the raw
// JSON of unknown keys compacted, as it was when the enclosing claims
// object had been rewritten (see exact.go).
func (g *Grants) decode(v jsonlite.Value, compact bool) error {
	if v.Kind != jsonlite.Object {
		// The type encoding/json named when grants were first read into a
		// map of raw values.
		return &typeError{Value: valueName(v), Type: "map[string]json.RawMessage", want: "an object"}
	}
	var ng Grants
	for _, m := range lastMembers(v) {
		if grantsInfo.index(m.Key) < 0 {
			if ng.Unknown == nil {
				ng.Unknown = make(map[string][]byte)
			}
			raw := append([]byte(nil), m.Value.Raw...)
			if compact {
				raw, _ = jsonlite.AppendAny(nil, m.Value)
			}
			ng.Unknown[m.Key] = raw
			continue
		}
		if err := ng.decodeGrant(m.Key, m.Value); err != nil {
			err.Field = join(m.Key, err.Field)
			return err
		}
	}
	*g = ng
	return nil
}

// decodeGrant reads v into the grant key names, which Twilio defines. A
// type error names its field relative to the grant.
func (g *Grants) decodeGrant(key string, v jsonlite.Value) *typeError {
	var d decoder
	d.value(g.slot(key), grantsInfo.fields[grantsInfo.index(key)].sub, v, true, false)
	return d.err
}

// Keys returns the keys of the grants present, in GrantKeys order, followed
// by any unknown keys in lexical order. The identity is not a grant.
func (g Grants) Keys() []string {
	var keys []string
	present := map[string]bool{
		KeyVideo: g.Video != nil, KeyChat: g.Chat != nil, KeyIPMessaging: g.IPMessaging != nil,
		KeySync: g.Sync != nil, KeyVoice: g.Voice != nil, KeyTaskRouter: g.TaskRouter != nil,
		KeyPlayer: g.Player != nil, KeyRTC: g.RTC != nil,
	}
	for _, k := range GrantKeys {
		if present[k] {
			keys = append(keys, k)
		}
	}
	unknown := make([]string, 0, len(g.Unknown))
	for k := range g.Unknown {
		unknown = append(unknown, k)
	}
	slices.Sort(unknown)
	return append(keys, unknown...)
}

// ParseGrantsStrict decodes a grants object as a client asks for it: unknown
// grant keys, unknown fields inside a grant (keys are case-sensitive) and
// wrong types are errors that name the offending field
// ("grants.voice.outgoing.application_sid"). It then validates SIDs and the
// identity with Validate. It returns the first problem CheckGrants finds.
func ParseGrantsStrict(data []byte) (Grants, error) {
	g, problems := CheckGrants(data)
	if len(problems) > 0 {
		return Grants{}, problems[0]
	}
	return g, nil
}

// CheckGrants decodes a grants object and reports every problem
// ParseGrantsStrict would refuse, each a *FieldError naming the field and
// wrapping its kind (ErrUnknownField, ErrWrongType, ErrBadSID…): decoding
// problems in key order, then Validate's. The grants it returns hold what
// could be decoded; a grant whose value had the wrong type is left out.
func CheckGrants(data []byte) (Grants, []*FieldError) {
	v, err := jsonlite.Parse(data)
	if err != nil || v.Kind != jsonlite.Object {
		return Grants{}, []*FieldError{{Field: "grants", Problem: `must be a JSON object of grants, e.g. {"identity": "alice", "video": {"room": "My Room"}}, got ` + describeJSON(v, err), Err: ErrWrongType}}
	}
	var g Grants
	var problems []*FieldError
	for _, m := range lastMembers(v) {
		field := "grants." + m.Key
		i := grantsInfo.index(m.Key)
		if i < 0 {
			problems = append(problems, &FieldError{Field: field, Problem: unknownGrantProblem(m.Key), Err: ErrUnknownField})
			continue
		}
		sub := grantsInfo.fields[i].sub
		if m.Value.Kind == jsonlite.Null {
			_, want := expected(g.slot(m.Key), sub)
			problems = append(problems, &FieldError{Field: field, Problem: "must be " + want + ", not null: leave the key out instead", Err: ErrWrongType})
			continue
		}
		if sub != nil {
			problems = append(problems, unknownFields(m.Value, sub, field)...)
		}
		if e := g.decodeGrant(m.Key, m.Value); e != nil {
			problems = append(problems, &FieldError{Field: join(field, e.Field), Problem: e.problem(), Err: ErrWrongType})
			zero(g.slot(m.Key))
		}
	}
	return g, append(problems, g.problems()...)
}

// unknownGrantProblem explains an unknown grant key, suggesting the key
// meant when it is a common mistake.
func unknownGrantProblem(key string) string {
	if want, ok := grantAliases[strings.ToLower(key)]; ok && want != key {
		return "is not a Twilio grant: did you mean " + strconv.Quote(want) + "? (known: identity, " + strings.Join(GrantKeys, ", ") + ")"
	}
	return "is not a Twilio grant (known: identity, " + strings.Join(GrantKeys, ", ") + ")"
}

// grantAliases maps lower-cased names people write for a grant to its key.
var grantAliases = map[string]string{
	"identity": KeyIdentity, "video": KeyVideo, "videogrant": KeyVideo, "video_grant": KeyVideo,
	"chat": KeyChat, "chatgrant": KeyChat, "conversations": KeyChat, "conversation": KeyChat,
	"ip_messaging": KeyIPMessaging, "ipmessaging": KeyIPMessaging,
	"data_sync": KeySync, "sync": KeySync, "datasync": KeySync, "syncgrant": KeySync,
	"voice": KeyVoice, "voicegrant": KeyVoice,
	"task_router": KeyTaskRouter, "taskrouter": KeyTaskRouter, "task-router": KeyTaskRouter,
	"player": KeyPlayer, "playback": KeyPlayer, "playbackgrant": KeyPlayer,
	"rtc": KeyRTC,
}

// describeJSON names the kind of a JSON value for an error message; err
// is the error parsing it gave. A number beyond float64 counts as invalid,
// as it did when encoding/json decoded the value into an any.
func describeJSON(v jsonlite.Value, err error) string {
	if errors.Is(err, jsonlite.ErrTooDeep) {
		return "JSON nested deeper than " + strconv.Itoa(jsonlite.MaxDepth) + " levels"
	}
	if err != nil || !fitsFloat64(v) {
		return "text that is not valid JSON"
	}
	switch v.Kind {
	case jsonlite.Null:
		return "null"
	case jsonlite.Bool:
		return "a boolean"
	case jsonlite.Number:
		return "a number"
	case jsonlite.String:
		return "a string"
	case jsonlite.Array:
		return "an array"
	}
	return "an object"
}

// fitsFloat64 reports whether every number in v fits a float64.
func fitsFloat64(v jsonlite.Value) bool {
	switch v.Kind {
	case jsonlite.Number:
		_, ok := v.Float64()
		return ok
	case jsonlite.Array:
		for _, it := range v.Items {
			if !fitsFloat64(it) {
				return false
			}
		}
	case jsonlite.Object:
		for _, m := range v.Members {
			if !fitsFloat64(m.Value) {
				return false
			}
		}
	}
	return true
}
