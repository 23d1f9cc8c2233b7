package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
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

// UnmarshalJSON decodes the known grants and keeps unknown keys in Unknown.
func (g *Grants) UnmarshalJSON(data []byte) error {
	type plain Grants
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for key, raw := range all {
		if key != KeyIdentity && !isGrantKey(key) {
			if p.Unknown == nil {
				p.Unknown = make(map[string]json.RawMessage)
			}
			p.Unknown[key] = raw
		}
	}
	*g = Grants(p)
	return nil
}

func isGrantKey(key string) bool {
	for _, k := range GrantKeys {
		if k == key {
			return true
		}
	}
	return false
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
	sort.Strings(unknown)
	return append(keys, unknown...)
}

// ParseGrantsStrict decodes a grants object as a client asks for it: unknown
// grant keys, unknown fields inside a grant and wrong types are errors that
// name the offending field ("grants.voice.outgoing.application_sid"). It then
// validates SIDs and the identity with Validate.
func ParseGrantsStrict(data []byte) (Grants, error) {
	var g Grants
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return g, &FieldError{Field: "grants", Problem: "must be a JSON object of grants"}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw := all[key]
		field := "grants." + key
		var target any
		switch key {
		case KeyIdentity:
			target = &g.Identity
		case KeyVideo:
			target = &g.Video
		case KeyChat:
			target = &g.Chat
		case KeyIPMessaging:
			target = &g.IPMessaging
		case KeySync:
			target = &g.Sync
		case KeyVoice:
			target = &g.Voice
		case KeyTaskRouter:
			target = &g.TaskRouter
		case KeyPlayer:
			target = &g.Player
		case KeyRTC:
			target = &g.RTC
		default:
			return Grants{}, &FieldError{Field: field, Problem: fmt.Sprintf("is not a Twilio grant (known: %v)", GrantKeys)}
		}
		if err := decodeStrict(raw, target); err != nil {
			return Grants{}, fieldErrorFrom(field, err)
		}
	}
	return g, g.Validate()
}

func decodeStrict(raw []byte, target any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the value")
	}
	return nil
}

// fieldErrorFrom turns an encoding/json error into a FieldError that names the
// nested field in Twilio's terms.
func fieldErrorFrom(field string, err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case asError(err, &typeErr):
		f := field
		if typeErr.Field != "" {
			f = field + "." + typeErr.Field
		}
		return &FieldError{Field: f, Problem: "must be " + jsonKind(typeErr.Type.Kind().String()) + ", not " + typeErr.Value}
	case asError(err, &syntaxErr):
		return &FieldError{Field: field, Problem: "is not valid JSON"}
	}
	msg := err.Error()
	const unknownPrefix = "json: unknown field "
	if len(msg) > len(unknownPrefix) && msg[:len(unknownPrefix)] == unknownPrefix {
		return &FieldError{Field: field, Problem: "has an unknown field " + msg[len(unknownPrefix):]}
	}
	return &FieldError{Field: field, Problem: msg}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return "a " + goKind
}
