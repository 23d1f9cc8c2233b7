package session

import (
	"crypto/rand"
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// TestOpensPayloadsSealedBefore seals the payload an earlier server wrote
// (the grants marshalled from their json tags, before Grants wrote itself
// from the token layout) and checks that it still opens to the same
// session: a change of how grants are written must not sign everyone out.
func TestOpensPayloadsSealedBefore(t *testing.T) {
	key, err := DeriveKey([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	m, err := NewManager(Options{Key: key, Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const payload = `{"i":"SESSIONID","u":"alice","p":"cred","g":{"identity":"alice","video":{"room":"\u003croom\u003e"},` +
		`"chat":{"service_sid":"IS0123456789abcdef0123456789abcdef","endpoint_id":"e"},"ip_messaging":{},` +
		`"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP0123456789abcdef0123456789abcdef","params":{"n":2,"to":"+1555"}}},` +
		`"task_router":{"workspace_sid":"WS0123456789abcdef0123456789abcdef","role":"worker"},"player":{"x":{"y":5}}},` +
		`"t":600,"c":1800000000,"e":1800003600}`
	ns := m.aead.NonceSize()
	buf := make([]byte, 1+ns)
	buf[0] = version
	rand.Read(buf[1:])
	value := base64.RawURLEncoding.EncodeToString(m.aead.Seal(buf, buf[1:], []byte(payload), aad))

	s, err := m.Open(value)
	if err != nil {
		t.Fatalf("Open of an earlier payload: %v", err)
	}
	want := token.Grants{
		Identity:    "alice",
		Video:       &token.VideoGrant{Room: "<room>"},
		Chat:        &token.ChatGrant{ServiceSID: "IS0123456789abcdef0123456789abcdef", EndpointID: "e"},
		IPMessaging: &token.ChatGrant{},
		Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true},
			Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP0123456789abcdef0123456789abcdef", Params: map[string]any{"n": 2.0, "to": "+1555"}}},
		TaskRouter: &token.TaskRouterGrant{WorkspaceSID: "WS0123456789abcdef0123456789abcdef", Role: "worker"},
		Player:     map[string]any{"x": map[string]any{"y": 5.0}},
	}
	if s.ID != "SESSIONID" || s.Identity != "alice" || s.Credential != "cred" || s.TTL != 600 || !reflect.DeepEqual(s.Grants, want) {
		t.Fatalf("opened %+v\ngrants %#v\nwant   %#v", s, s.Grants, want)
	}
	// And Seal writes the same payload again, byte for byte.
	again, err := m.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(again)
	plain, err := m.aead.Open(nil, raw[1:1+ns], raw[1+ns:], aad)
	if err != nil || string(plain) != payload {
		t.Fatalf("Seal writes\n %s\nwant\n %s (%v)", plain, payload, err)
	}
}
