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
// problems in document order, then Validate's. The grants it returns hold
// what could be decoded; a grant whose value had the wrong type is left
// out.
func CheckGrants(data []byte) (Grants, []*FieldError) {
	v, err := jsonlite.Parse(data)
	if err != nil || v.Kind != jsonlite.Object {
		return Grants{}, []*FieldError{{Field: "grants", Problem: `must be a JSON object of grants, e.g. {"identity": "alice", "video": {"room": "My Room"}}, got ` + describeJSON(v, err), Err: ErrWrongType}}
	}
	var g Grants
	var problems []*FieldError
	unknown := jsonlite.At{Unknown: func(path, problem string) {
		problems = append(problems, &FieldError{Field: path, Problem: problem, Err: ErrUnknownField})
	}}
	seen := map[string]bool{}
	for _, m := range v.Members {
		at := unknown.Key("grants").Key(m.Key)
		switch {
		case seen[m.Key]:
			problems = append(problems, &FieldError{Field: at.Path, Problem: "is given more than once: give each grant once", Err: ErrWrongType})
			continue
		case !grantsFields.Has(m.Key):
			problems = append(problems, &FieldError{Field: at.Path, Problem: unknownGrantProblem(m.Key), Err: ErrUnknownField})
			continue
		case m.Value.Kind == jsonlite.Null:
			want := "an object"
			if m.Key == KeyIdentity {
				want = "a string"
			}
			problems = append(problems, &FieldError{Field: at.Path, Problem: "must be " + want + ", not null: leave the key out instead", Err: ErrWrongType})
			continue
		}
		seen[m.Key] = true
		one := jsonlite.Value{Kind: jsonlite.Object, Members: []jsonlite.Member{m}}
		// Each grant is read on its own, so that one grant's problem
		// does not hide the others'; a field is set only once read whole.
		if err := grantsFields.Read(&g, one, unknown.Key("grants")); err != nil {
			var fe *jsonlite.FieldError
			if errors.As(err, &fe) {
				problems = append(problems, &FieldError{Field: fe.Path, Problem: fe.Problem, Err: ErrWrongType})
			}
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

// FoldKey reduces a key to what differs between serviceSid, ServiceSID and
// service_sid: nothing. Keys that fold alike are one key misspelled.
func FoldKey(key string) string { return jsonlite.FoldKey(key) }
