package token

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// keys returns a binding's keys in order.
func keys[T any](b *jsonlite.Binding[T]) []string {
	var ks []string
	for _, f := range b.Fields {
		ks = append(ks, f.Key)
	}
	return ks
}

// TestLayoutFollowsTags holds the layout tables to the structs' json tags,
// which document the JSON and which the server's encoding/json reads for
// the header and the claims.
func TestLayoutFollowsTags(t *testing.T) {
	for _, tt := range []struct {
		v    any
		keys []string
	}{
		{Header{}, keys(&headerFields)}, {Claims{}, keys(&claimsFields)}, {Grants{}, keys(&grantsFields)},
		{VideoGrant{}, keys(&videoFields)}, {ChatGrant{}, keys(&chatFields)}, {SyncGrant{}, keys(&syncFields)},
		{VoiceGrant{}, keys(&voiceFields)}, {VoiceIncoming{}, keys(&incomingFields)}, {VoiceOutgoing{}, keys(&outgoingFields)},
		{TaskRouterGrant{}, keys(&taskRouterFields)}, {RTCGrant{}, keys(&rtcFields)},
	} {
		typ := reflect.TypeOf(tt.v)
		var tags []string
		for i := range typ.NumField() {
			if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); name != "-" {
				tags = append(tags, name)
			}
		}
		if !reflect.DeepEqual(tags, tt.keys) {
			t.Errorf("%s: layout %q, tags %q", typ.Name(), tt.keys, tags)
		}
	}
}

// TestLayoutWritesAsTags checks that the table writes grants byte for byte
// as encoding/json writes them from the tags (voice aside, which follows
// Twilio's libraries and has its own test).
func TestLayoutWritesAsTags(t *testing.T) {
	type plain Grants // the tags, without Grants' MarshalJSON
	for _, g := range []Grants{
		{},
		{Identity: "<a&b>\u2028", Video: &VideoGrant{}, Chat: &ChatGrant{ServiceSID: "IS1", PushCredentialSID: "\x00\xff"},
			IPMessaging: &ChatGrant{EndpointID: "e"}, Sync: &SyncGrant{ServiceSID: "IS2", EndpointID: "s"},
			TaskRouter: &TaskRouterGrant{WorkspaceSID: "WS", WorkerSID: "WK", Role: "r"},
			Player:     map[string]any{"z": 1.5, "a": []any{nil, true, "x"}}, RTC: &RTCGrant{ConfigurationProfileSID: "CJ"},
			Unknown: map[string][]byte{"fax": []byte(`{}`)}},
		{Video: &VideoGrant{Room: "My Room"}, Player: map[string]any{}},
	} {
		got, err := g.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(plain(g))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("MarshalJSON\n got  %s\n want %s", got, want)
		}
	}
}
