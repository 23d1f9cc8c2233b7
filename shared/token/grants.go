package token

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
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

	// Unknown holds keys Twilio does not define. Decoding keeps them so that
	// lint can report them; they are never minted.
	Unknown map[string]json.RawMessage `json:"-"`
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

// MarshalJSON follows Twilio's helper libraries: "incoming" appears only when
// allowed, and "outgoing" (with its params) only with an application SID.
func (v VoiceGrant) MarshalJSON() ([]byte, error) {
	type plain VoiceGrant
	p := plain(v)
	if p.Incoming != nil && !p.Incoming.Allow {
		p.Incoming = nil
	}
	if p.Outgoing != nil && p.Outgoing.ApplicationSID == "" {
		p.Outgoing = nil
	}
	return json.Marshal(p)
}

// UnmarshalJSON decodes the known grants, reading keys exactly as spelled,
// and keeps unknown keys in Unknown. A type error names the grant's field
// ("video.room"), which encoding/json prefixes with the enclosing path.
func (g *Grants) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	var ng Grants
	for _, key := range sortedKeys(all) {
		raw := all[key]
		target := ng.field(key)
		if target == nil {
			if ng.Unknown == nil {
				ng.Unknown = make(map[string]json.RawMessage)
			}
			ng.Unknown[key] = raw
			continue
		}
		if err := unmarshalExact(raw, target); err != nil {
			return prefixField(key, err)
		}
	}
	*g = ng
	return nil
}

// field returns a pointer to the field that holds grant key, or nil when
// Twilio defines no such key.
func (g *Grants) field(key string) any {
	switch key {
	case KeyIdentity:
		return &g.Identity
	case KeyVideo:
		return &g.Video
	case KeyChat:
		return &g.Chat
	case KeyIPMessaging:
		return &g.IPMessaging
	case KeySync:
		return &g.Sync
	case KeyVoice:
		return &g.Voice
	case KeyTaskRouter:
		return &g.TaskRouter
	case KeyPlayer:
		return &g.Player
	case KeyRTC:
		return &g.RTC
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
	var g Grants
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil || all == nil {
		return Grants{}, []*FieldError{{Field: "grants", Problem: `must be a JSON object of grants, e.g. {"identity": "alice", "video": {"room": "My Room"}}, got ` + describeJSON(data), Err: ErrWrongType}}
	}
	var problems []*FieldError
	for _, key := range sortedKeys(all) {
		raw := all[key]
		field := "grants." + key
		target := g.field(key)
		if target == nil {
			problems = append(problems, &FieldError{Field: field, Problem: unknownGrantProblem(key), Err: ErrUnknownField})
			continue
		}
		if isNull(raw) {
			problems = append(problems, &FieldError{Field: field, Problem: "must be " + kindOfTarget(target) + ", not null: leave the key out instead", Err: ErrWrongType})
			continue
		}
		filtered, unknown := exactKeys(raw, reflect.TypeOf(target).Elem(), field)
		problems = append(problems, unknown...)
		if err := json.Unmarshal(filtered, target); err != nil {
			problems = append(problems, fieldErrorFrom(field, err))
			reflect.ValueOf(target).Elem().SetZero()
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

func kindOfTarget(target any) string {
	t := reflect.TypeOf(target).Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return jsonKind(t.Kind().String())
}

// describeJSON names the kind of a JSON value for an error message.
func describeJSON(data []byte) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "text that is not valid JSON"
	}
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// fieldErrorFrom turns an encoding/json error into a FieldError that names the
// nested field in Twilio's terms.
func fieldErrorFrom(field string, err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return &FieldError{Field: join(field, typeErr.Field), Problem: typeProblem(typeErr), Err: ErrWrongType}
	case errors.As(err, &syntaxErr):
		return &FieldError{Field: field, Problem: "is not valid JSON", Err: ErrWrongType}
	}
	return &FieldError{Field: field, Problem: err.Error(), Err: ErrWrongType}
}

// typeProblem says what a json type error's field must be and what it was:
// "must be a string, not number", "must be a whole number, not 1.5".
func typeProblem(e *json.UnmarshalTypeError) string {
	got, _ := strings.CutPrefix(e.Value, "number ")
	return "must be " + jsonKind(e.Type.Kind().String()) + ", not " + got
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	}
	return "a " + goKind
}
