package token

// This file keeps the package's decoding and encoding as they were when
// they used encoding/json and reflect, on mirror types, so that the fuzz
// tests in fuzz_oracle_test.go can hold the hand-written code to them.
// The code is the old code with the types renamed; do not "fix" it: it is
// the reference.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

type oldHeader Header

type oldClaims struct {
	JTI    string    `json:"jti"`
	Grants oldGrants `json:"grants"`
	Iss    string    `json:"iss"`
	Exp    int64     `json:"exp"`
	Nbf    int64     `json:"nbf,omitempty"`
	Iat    int64     `json:"iat,omitempty"`
	Sub    string    `json:"sub"`
}

type oldGrants struct {
	Identity    string           `json:"identity,omitempty"`
	Video       *VideoGrant      `json:"video,omitempty"`
	Chat        *ChatGrant       `json:"chat,omitempty"`
	IPMessaging *ChatGrant       `json:"ip_messaging,omitempty"`
	Sync        *SyncGrant       `json:"data_sync,omitempty"`
	Voice       *oldVoiceGrant   `json:"voice,omitempty"`
	TaskRouter  *TaskRouterGrant `json:"task_router,omitempty"`
	Player      map[string]any   `json:"player,omitempty"`
	RTC         *RTCGrant        `json:"rtc,omitempty"`

	Unknown map[string]json.RawMessage `json:"-"`
}

type oldVoiceGrant VoiceGrant

func (v oldVoiceGrant) MarshalJSON() ([]byte, error) {
	type plain oldVoiceGrant
	p := plain(v)
	if p.Incoming != nil && !p.Incoming.Allow {
		p.Incoming = nil
	}
	if p.Outgoing != nil && p.Outgoing.ApplicationSID == "" {
		p.Outgoing = nil
	}
	return json.Marshal(p)
}

func (g *oldGrants) UnmarshalJSON(data []byte) error {
	if oldIsNull(data) {
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	var ng oldGrants
	for _, key := range oldSortedKeys(all) {
		raw := all[key]
		target := ng.field(key)
		if target == nil {
			if ng.Unknown == nil {
				ng.Unknown = make(map[string]json.RawMessage)
			}
			ng.Unknown[key] = raw
			continue
		}
		if err := oldUnmarshalExact(raw, target); err != nil {
			return oldPrefixField(key, err)
		}
	}
	*g = ng
	return nil
}

func (g *oldGrants) field(key string) any {
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

func oldSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (h *oldHeader) UnmarshalJSON(data []byte) error {
	if oldIsNull(data) {
		return nil
	}
	type plain oldHeader
	var p plain
	if err := oldUnmarshalExact(data, &p); err != nil {
		return err
	}
	*h = oldHeader(p)
	return nil
}

func (c *oldClaims) UnmarshalJSON(data []byte) error {
	if oldIsNull(data) {
		return nil
	}
	type plain oldClaims
	var p plain
	if err := oldUnmarshalExact(data, &p); err != nil {
		return err
	}
	*c = oldClaims(p)
	return nil
}

func oldDecodeObject(data []byte, v any) error {
	trimmed := strings.TrimSpace(string(data))
	if !json.Valid(data) {
		return errors.New("not valid JSON")
	}
	if !strings.HasPrefix(trimmed, "{") {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("%q %s", typeErr.Field, oldTypeProblem(typeErr))
		}
		return fmt.Errorf("not decodable: %v", err)
	}
	return nil
}

func oldCheckGrants(data []byte) (oldGrants, []*FieldError) {
	var g oldGrants
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil || all == nil {
		return oldGrants{}, []*FieldError{{Field: "grants", Problem: `must be a JSON object of grants, e.g. {"identity": "alice", "video": {"room": "My Room"}}, got ` + oldDescribeJSON(data), Err: ErrWrongType}}
	}
	var problems []*FieldError
	for _, key := range oldSortedKeys(all) {
		raw := all[key]
		field := "grants." + key
		target := g.field(key)
		if target == nil {
			problems = append(problems, &FieldError{Field: field, Problem: oldUnknownGrantProblem(key), Err: ErrUnknownField})
			continue
		}
		if oldIsNull(raw) {
			problems = append(problems, &FieldError{Field: field, Problem: "must be " + oldKindOfTarget(target) + ", not null: leave the key out instead", Err: ErrWrongType})
			continue
		}
		filtered, unknown := oldExactKeys(raw, reflect.TypeOf(target).Elem(), field)
		problems = append(problems, unknown...)
		if err := json.Unmarshal(filtered, target); err != nil {
			problems = append(problems, oldFieldErrorFrom(field, err))
			reflect.ValueOf(target).Elem().SetZero()
		}
	}
	// Validate never used JSON: its problems come from the real code.
	return g, append(problems, newGrants(g).problems()...)
}

func oldUnknownGrantProblem(key string) string {
	if want, ok := oldGrantAliases[strings.ToLower(key)]; ok && want != key {
		return fmt.Sprintf("is not a Twilio grant: did you mean %q? (known: identity, %s)", want, strings.Join(GrantKeys, ", "))
	}
	return fmt.Sprintf("is not a Twilio grant (known: identity, %s)", strings.Join(GrantKeys, ", "))
}

var oldGrantAliases = map[string]string{
	"identity": KeyIdentity, "video": KeyVideo, "videogrant": KeyVideo, "video_grant": KeyVideo,
	"chat": KeyChat, "chatgrant": KeyChat, "conversations": KeyChat, "conversation": KeyChat,
	"ip_messaging": KeyIPMessaging, "ipmessaging": KeyIPMessaging,
	"data_sync": KeySync, "sync": KeySync, "datasync": KeySync, "syncgrant": KeySync,
	"voice": KeyVoice, "voicegrant": KeyVoice,
	"task_router": KeyTaskRouter, "taskrouter": KeyTaskRouter, "task-router": KeyTaskRouter,
	"player": KeyPlayer, "playback": KeyPlayer, "playbackgrant": KeyPlayer,
	"rtc": KeyRTC,
}

func oldKindOfTarget(target any) string {
	t := reflect.TypeOf(target).Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return oldJSONKind(t.Kind().String())
}

func oldDescribeJSON(data []byte) string {
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

func oldFieldErrorFrom(field string, err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return &FieldError{Field: oldJoin(field, typeErr.Field), Problem: oldTypeProblem(typeErr), Err: ErrWrongType}
	case errors.As(err, &syntaxErr):
		return &FieldError{Field: field, Problem: "is not valid JSON", Err: ErrWrongType}
	}
	return &FieldError{Field: field, Problem: err.Error(), Err: ErrWrongType}
}

func oldTypeProblem(e *json.UnmarshalTypeError) string {
	got, _ := strings.CutPrefix(e.Value, "number ")
	return "must be " + oldJSONKind(e.Type.Kind().String()) + ", not " + got
}

func oldJSONKind(goKind string) string {
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

func oldExactKeys(data []byte, t reflect.Type, path string) ([]byte, []*FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(oldUnmarshalerType) {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return data, nil
	}
	fields := oldJSONFields(t)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []*FieldError
	changed := false
	for _, k := range keys {
		field := oldJoin(path, k)
		ft, ok := fields[k]
		if !ok {
			problems = append(problems, &FieldError{Field: field, Problem: oldUnknownFieldProblem(path, k, fields), Err: ErrUnknownField})
			delete(obj, k)
			changed = true
			continue
		}
		sub, p := oldExactKeys(obj[k], ft, field)
		problems = append(problems, p...)
		if !bytes.Equal(sub, obj[k]) {
			obj[k] = sub
			changed = true
		}
	}
	if !changed {
		return data, problems
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return data, problems
	}
	return out, problems
}

var oldUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func oldJSONFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func oldUnknownFieldProblem(path, key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if oldFold(n) == oldFold(key) {
			return fmt.Sprintf("is not a known field: keys are case-sensitive snake_case, write %q", n)
		}
	}
	if path == "" {
		return fmt.Sprintf("is not a known field (known: %s)", strings.Join(names, ", "))
	}
	return fmt.Sprintf("is not a known field (%s has: %s)", path, strings.Join(names, ", "))
}

func oldFold(key string) string {
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '_' && key[i] != '-' {
			b = append(b, key[i])
		}
	}
	return strings.ToLower(string(b))
}

func oldJoin(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

func oldUnmarshalExact(data []byte, v any) error {
	data, _ = oldExactKeys(data, reflect.TypeOf(v).Elem(), "")
	return json.Unmarshal(data, v)
}

func oldPrefixField(prefix string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		typeErr.Field = oldJoin(prefix, typeErr.Field)
	}
	return err
}

func oldIsNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

// newGrants converts the mirror to the real type, field by field.
func newGrants(o oldGrants) Grants {
	g := Grants{
		Identity: o.Identity, Video: o.Video, Chat: o.Chat, IPMessaging: o.IPMessaging, Sync: o.Sync,
		Voice: (*VoiceGrant)(o.Voice), TaskRouter: o.TaskRouter, Player: o.Player, RTC: o.RTC,
	}
	if o.Unknown != nil {
		g.Unknown = make(map[string][]byte, len(o.Unknown))
		for k, v := range o.Unknown {
			g.Unknown[k] = v
		}
	}
	return g
}

func newClaims(o oldClaims) Claims {
	return Claims{JTI: o.JTI, Grants: newGrants(o.Grants), Iss: o.Iss, Exp: o.Exp, Nbf: o.Nbf, Iat: o.Iat, Sub: o.Sub}
}

// toOldGrants converts the real type to the mirror (Unknown is never
// written, so it is left out).
func toOldGrants(g Grants) oldGrants {
	return oldGrants{
		Identity: g.Identity, Video: g.Video, Chat: g.Chat, IPMessaging: g.IPMessaging, Sync: g.Sync,
		Voice: (*oldVoiceGrant)(g.Voice), TaskRouter: g.TaskRouter, Player: g.Player, RTC: g.RTC,
	}
}

func toOldClaims(c Claims) oldClaims {
	return oldClaims{JTI: c.JTI, Grants: toOldGrants(c.Grants), Iss: c.Iss, Exp: c.Exp, Nbf: c.Nbf, Iat: c.Iat, Sub: c.Sub}
}

// oldMessage rewrites the oracle's error message with the names the real
// types had: the mirrors carry an "old" prefix.
func oldMessage(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.NewReplacer("token.old", "token.", "field old", "field ").Replace(err.Error())
}
