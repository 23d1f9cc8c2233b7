package token_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/token"
)

const (
	sidIS = "IS00000000000000000000000000000001"
	sidRL = "RL00000000000000000000000000000002"
	sidCR = "CR00000000000000000000000000000003"
	sidAP = "AP00000000000000000000000000000004"
	sidWS = "WS00000000000000000000000000000005"
	sidWK = "WK00000000000000000000000000000006"
	sidCP = "CP00000000000000000000000000000007"
)

// TestGrantJSONShape pins each grant's JSON to what Twilio's helper
// libraries emit: snake_case keys, empty fields left out, voice "incoming"
// only when allowed and "outgoing" (with params) only with an application.
func TestGrantJSONShape(t *testing.T) {
	tests := []struct {
		name   string
		grants token.Grants
		want   string
	}{
		{"nothing", token.Grants{}, `{}`},
		{"identity only", token.Grants{Identity: "alice"}, `{"identity":"alice"}`},
		{"video with room", token.Grants{Video: &token.VideoGrant{Room: "My Room"}}, `{"video":{"room":"My Room"}}`},
		{"video any room", token.Grants{Video: &token.VideoGrant{}}, `{"video":{}}`},
		{"chat full", token.Grants{Chat: &token.ChatGrant{ServiceSID: sidIS, EndpointID: "app:alice:ios", DeploymentRoleSID: sidRL, PushCredentialSID: sidCR}},
			`{"chat":{"service_sid":"` + sidIS + `","endpoint_id":"app:alice:ios","deployment_role_sid":"` + sidRL + `","push_credential_sid":"` + sidCR + `"}}`},
		{"chat service only", token.Grants{Chat: &token.ChatGrant{ServiceSID: sidIS}}, `{"chat":{"service_sid":"` + sidIS + `"}}`},
		{"ip_messaging", token.Grants{IPMessaging: &token.ChatGrant{ServiceSID: sidIS, EndpointID: "e"}}, `{"ip_messaging":{"service_sid":"` + sidIS + `","endpoint_id":"e"}}`},
		{"sync", token.Grants{Sync: &token.SyncGrant{ServiceSID: sidIS, EndpointID: "e"}}, `{"data_sync":{"service_sid":"` + sidIS + `","endpoint_id":"e"}}`},
		{"sync empty", token.Grants{Sync: &token.SyncGrant{}}, `{"data_sync":{}}`},
		{"voice incoming allowed", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}, `{"voice":{"incoming":{"allow":true}}}`},
		{"voice incoming not allowed is left out", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: false}}}, `{"voice":{}}`},
		{"voice outgoing with params", token.Grants{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: sidAP, Params: map[string]any{"to": "+15551234567"}}}},
			`{"voice":{"outgoing":{"application_sid":"` + sidAP + `","params":{"to":"+15551234567"}}}}`},
		{"voice outgoing without params", token.Grants{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: sidAP}}}, `{"voice":{"outgoing":{"application_sid":"` + sidAP + `"}}}`},
		{"voice params without application are left out", token.Grants{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{Params: map[string]any{"a": "b"}}}}, `{"voice":{}}`},
		{"voice full", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}, Outgoing: &token.VoiceOutgoing{ApplicationSID: sidAP}, PushCredentialSID: sidCR, EndpointID: "e"}},
			`{"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"` + sidAP + `"},"push_credential_sid":"` + sidCR + `","endpoint_id":"e"}}`},
		{"task_router", token.Grants{TaskRouter: &token.TaskRouterGrant{WorkspaceSID: sidWS, WorkerSID: sidWK, Role: "worker"}},
			`{"task_router":{"workspace_sid":"` + sidWS + `","worker_sid":"` + sidWK + `","role":"worker"}}`},
		{"player is opaque", token.Grants{Player: map[string]any{"playbackGrant": map[string]any{"requestCredentials": nil}}}, `{"player":{"playbackGrant":{"requestCredentials":null}}}`},
		{"rtc", token.Grants{RTC: &token.RTCGrant{ConfigurationProfileSID: sidCP}}, `{"rtc":{"configuration_profile_sid":"` + sidCP + `"}}`},
		{"several grants", token.Grants{Identity: "susan", Video: &token.VideoGrant{Room: "r"}, Sync: &token.SyncGrant{ServiceSID: sidIS}},
			`{"identity":"susan","video":{"room":"r"},"data_sync":{"service_sid":"` + sidIS + `"}}`},
		{"unknown keys are never minted", token.Grants{Identity: "a", Unknown: map[string][]byte{"fax": []byte(`{}`)}}, `{"identity":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.grants)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal =\n %s\nwant\n %s", b, tt.want)
			}
			// Whatever is minted passes the strict parse a client request gets.
			if _, err := token.ParseGrantsStrict(b); err != nil {
				t.Errorf("ParseGrantsStrict(Marshal) = %v", err)
			}
		})
	}
}

// A session cookie stores grants as JSON: what is marshalled must decode to
// the same grants.
func TestGrantsRoundTrip(t *testing.T) {
	g := token.Grants{
		Identity:    "alice",
		Video:       &token.VideoGrant{Room: "r"},
		Chat:        &token.ChatGrant{ServiceSID: sidIS, EndpointID: "e"},
		IPMessaging: &token.ChatGrant{ServiceSID: sidIS},
		Sync:        &token.SyncGrant{ServiceSID: sidIS},
		Voice:       &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}, Outgoing: &token.VoiceOutgoing{ApplicationSID: sidAP, Params: map[string]any{"k": "v"}}},
		TaskRouter:  &token.TaskRouterGrant{WorkspaceSID: sidWS, WorkerSID: sidWK, Role: "r"},
		Player:      map[string]any{"x": 1.0},
		RTC:         &token.RTCGrant{ConfigurationProfileSID: sidCP},
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var back token.Grants
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, g) {
		t.Errorf("round trip =\n %+v\nwant\n %+v", back, g)
	}
	if got, want := back.Keys(), token.GrantKeys; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

func TestGrantsUnmarshalKeepsUnknownKeys(t *testing.T) {
	var g token.Grants
	if err := json.Unmarshal([]byte(`{"identity":"a","sync":{"service_sid":"x"},"fax":1,"video":null}`), &g); err != nil {
		t.Fatal(err)
	}
	if got, want := g.Keys(), []string{"fax", "sync"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	if string(g.Unknown["sync"]) != `{"service_sid":"x"}` || string(g.Unknown["fax"]) != "1" {
		t.Errorf("Unknown = %s", g.Unknown)
	}
}

func TestParseGrantsStrict(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantField string // "" means accepted
		wantKind  error
		contains  string
	}{
		{"empty object", `{}`, "", nil, ""},
		{"every grant", `{"identity":"alice","video":{"room":"r"},"chat":{"service_sid":"` + sidIS + `","endpoint_id":"e","deployment_role_sid":"` + sidRL + `","push_credential_sid":"` + sidCR + `"},` +
			`"ip_messaging":{"service_sid":"` + sidIS + `"},"data_sync":{"service_sid":"` + sidIS + `","endpoint_id":"e"},` +
			`"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"` + sidAP + `","params":{"a":"b"}},"push_credential_sid":"` + sidCR + `","endpoint_id":"e"},` +
			`"task_router":{"workspace_sid":"` + sidWS + `","worker_sid":"` + sidWK + `","role":"r"},"player":{"anything":[1]},"rtc":{"configuration_profile_sid":"` + sidCP + `"}}`, "", nil, ""},

		// The value is not a grants object.
		{"null", `null`, "grants", token.ErrWrongType, "got null"},
		{"array", `[]`, "grants", token.ErrWrongType, "got an array"},
		{"string", `"video"`, "grants", token.ErrWrongType, "got a string"},
		{"not JSON", `{video}`, "grants", token.ErrWrongType, "not valid JSON"},
		{"empty input", ``, "grants", token.ErrWrongType, "not valid JSON"},

		// Unknown keys.
		{"unknown grant", `{"fax":{}}`, "grants.fax", token.ErrUnknownField, "is not a Twilio grant"},
		{"sync spelled sync", `{"sync":{}}`, "grants.sync", token.ErrUnknownField, `did you mean "data_sync"`},
		{"taskrouter without underscore", `{"taskrouter":{}}`, "grants.taskrouter", token.ErrUnknownField, `did you mean "task_router"`},
		{"capitalised grant", `{"Video":{}}`, "grants.Video", token.ErrUnknownField, `did you mean "video"`},
		{"unknown video field", `{"video":{"room":"r","name":"x"}}`, "grants.video.name", token.ErrUnknownField, "grants.video has: room"},
		{"capitalised video field", `{"video":{"Room":"x"}}`, "grants.video.Room", token.ErrUnknownField, `case-sensitive snake_case, write "room"`},
		{"camelCase chat field", `{"chat":{"serviceSid":"` + sidIS + `"}}`, "grants.chat.serviceSid", token.ErrUnknownField, `write "service_sid"`},
		{"unknown nested voice field", `{"voice":{"outgoing":{"application_sid":"` + sidAP + `","foo":1}}}`, "grants.voice.outgoing.foo", token.ErrUnknownField, "application_sid, params"},
		{"unknown incoming field", `{"voice":{"incoming":{"allow":true,"from":"x"}}}`, "grants.voice.incoming.from", token.ErrUnknownField, "allow"},

		// Wrong types.
		{"identity number", `{"identity":7}`, "grants.identity", token.ErrWrongType, "must be a string, not the number"},
		{"identity null", `{"identity":null}`, "grants.identity", token.ErrWrongType, "not null"},
		{"grant null", `{"video":null}`, "grants.video", token.ErrWrongType, "must be an object, not null"},
		{"grant a string", `{"video":"My Room"}`, "grants.video", token.ErrWrongType, "must be an object, not a string"},
		{"room a number", `{"video":{"room":1}}`, "grants.video.room", token.ErrWrongType, "must be a string, not the number"},
		{"allow as the string true", `{"voice":{"incoming":{"allow":"true"}}}`, "grants.voice.incoming.allow", token.ErrWrongType, "must be true or false, not a string"},
		{"application_sid a number", `{"voice":{"outgoing":{"application_sid":5}}}`, "grants.voice.outgoing.application_sid", token.ErrWrongType, "must be a string"},
		{"params an array", `{"voice":{"outgoing":{"application_sid":"` + sidAP + `","params":[]}}}`, "grants.voice.outgoing.params", token.ErrWrongType, "must be an object, not an array"},
		{"player a list", `{"player":[1]}`, "grants.player", token.ErrWrongType, "must be an object, not an array"},
		{"worker_sid an object", `{"task_router":{"worker_sid":{}}}`, "grants.task_router.worker_sid", token.ErrWrongType, "must be a string, not an object"},

		// Bad SIDs and values.
		{"chat service not IS", `{"chat":{"service_sid":"ZS00000000000000000000000000000001"}}`, "grants.chat.service_sid", token.ErrBadSID, "IS followed by 32 hex digits"},
		{"sync service ZS", `{"data_sync":{"service_sid":"ZS00000000000000000000000000000001"}}`, "grants.data_sync.service_sid", token.ErrBadSID, "IS followed"},
		{"ip_messaging role", `{"ip_messaging":{"deployment_role_sid":"RL1"}}`, "grants.ip_messaging.deployment_role_sid", token.ErrBadSID, "RL followed"},
		{"chat push credential", `{"chat":{"push_credential_sid":"` + sidAP + `"}}`, "grants.chat.push_credential_sid", token.ErrBadSID, "CR followed"},
		{"voice application", `{"voice":{"outgoing":{"application_sid":"AP123"}}}`, "grants.voice.outgoing.application_sid", token.ErrBadSID, "AP followed"},
		{"voice push credential", `{"voice":{"push_credential_sid":"CRxyz"}}`, "grants.voice.push_credential_sid", token.ErrBadSID, "CR followed"},
		{"workspace", `{"task_router":{"workspace_sid":"` + sidWK + `"}}`, "grants.task_router.workspace_sid", token.ErrBadSID, "WS followed"},
		{"worker", `{"task_router":{"worker_sid":"` + sidWS + `"}}`, "grants.task_router.worker_sid", token.ErrBadSID, "WK followed"},
		{"rtc profile", `{"rtc":{"configuration_profile_sid":"cp00000000000000000000000000000007"}}`, "grants.rtc.configuration_profile_sid", token.ErrBadSID, "two capital letters"},
		{"params without application", `{"voice":{"outgoing":{"params":{"a":"b"}}}}`, "grants.voice.outgoing.params", token.ErrMissingField, "needs grants.voice.outgoing.application_sid"},
		{"identity too long", `{"identity":"` + strings.Repeat("a", 257) + `"}`, "grants.identity", token.ErrBadIdentity, "at most 256"},
		{"identity with a newline", `{"identity":"a\nb"}`, "grants.identity", token.ErrBadIdentity, "control"},
		{"endpoint_id too long", `{"chat":{"endpoint_id":"` + strings.Repeat("e", 257) + `"}}`, "grants.chat.endpoint_id", token.ErrOutOfRange, "at most 256"},
		{"voice endpoint_id too long", `{"voice":{"endpoint_id":"` + strings.Repeat("e", 300) + `"}}`, "grants.voice.endpoint_id", token.ErrOutOfRange, "got 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := token.ParseGrantsStrict([]byte(tt.json))
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("ParseGrantsStrict = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseGrantsStrict = %+v, want an error about %s", g, tt.wantField)
			}
			var fe *token.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			if fe.Field != tt.wantField {
				t.Errorf("field = %q, want %q (error %q)", fe.Field, tt.wantField, err)
			}
			if !errors.Is(err, tt.wantKind) || !errors.Is(err, token.ErrInvalid) {
				t.Errorf("error %q does not wrap %v and ErrInvalid", err, tt.wantKind)
			}
			if !strings.HasPrefix(err.Error(), tt.wantField+" ") || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q should start with %q and say %q", err, tt.wantField, tt.contains)
			}
			if !reflect.DeepEqual(g, token.Grants{}) {
				t.Errorf("grants = %+v on error, want the zero value", g)
			}
		})
	}
}

func TestParseGrantsStrictDecodesValues(t *testing.T) {
	g, err := token.ParseGrantsStrict([]byte(`{"identity":"bob","voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"` + sidAP + `","params":{"to":"x"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := token.Grants{Identity: "bob", Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}, Outgoing: &token.VoiceOutgoing{ApplicationSID: sidAP, Params: map[string]any{"to": "x"}}}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("grants = %+v, want %+v", g, want)
	}
}

func TestCheckGrantsReportsEveryProblem(t *testing.T) {
	g, problems := token.CheckGrants([]byte(`{"fax":1,"video":{"Room":"x"},"chat":{"service_sid":"IS1"},"voice":{"incoming":{"allow":"yes"},"push_credential_sid":"CR1"}}`))
	var got []string
	for _, p := range problems {
		got = append(got, p.Field)
	}
	want := []string{
		// Decoding problems come first, in key order…
		"grants.fax",
		"grants.video.Room",
		"grants.voice.incoming.allow",
		// …then Validate's, on what decoded (voice did not).
		"grants.chat.service_sid",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	if g.Video == nil || g.Chat == nil {
		t.Errorf("grants = %+v: the decodable grants should be kept", g)
	}
	if g.Voice != nil {
		t.Errorf("voice = %+v: a grant with a wrong type should be left out", g.Voice)
	}
}
