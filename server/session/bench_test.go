package session_test

import (
	"reflect"
	"testing"

	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/shared/token"
)

// BenchmarkOpen is the cost every renewal and WebSocket upgrade pays to
// read its session cookie: "full" decrypts and decodes it, "remembered" is
// a cookie opened before (the usual case, every renewal of a session).
func BenchmarkOpen(b *testing.B) {
	for _, tc := range []struct {
		name     string
		remember int
	}{{"full", 0}, {"remembered", 16}} {
		b.Run(tc.name, func(b *testing.B) {
			c := newClock()
			m, err := session.NewManager(session.Options{Key: mustKey(b, "k"), Lifetime: 12 * 3600e9, Now: c.now, Remember: tc.remember})
			if err != nil {
				b.Fatal(err)
			}
			_, value, err := m.Start("alice", token.Grants{Identity: "alice", Video: &token.VideoGrant{Room: "My Room"}}, 3600)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Open(value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestOpenKeepsEveryGrant checks that a cookie carries every grant shape
// through Seal and Open unchanged, now that Open skips the strict grant
// reader.
func TestOpenKeepsEveryGrant(t *testing.T) {
	c := newClock()
	m := mustManager(t, mustKey(t, "k"), c, nil)
	sid := func(p string) string { return p + "0123456789abcdef0123456789abcdef" }
	g := token.Grants{
		Identity:    "alice",
		Video:       &token.VideoGrant{Room: "<room> & \u2028"},
		Chat:        &token.ChatGrant{ServiceSID: sid("IS"), EndpointID: "e", DeploymentRoleSID: sid("RL"), PushCredentialSID: sid("CR")},
		IPMessaging: &token.ChatGrant{ServiceSID: sid("IS")},
		Sync:        &token.SyncGrant{ServiceSID: sid("IS"), EndpointID: "s"},
		Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true},
			Outgoing: &token.VoiceOutgoing{ApplicationSID: sid("AP"), Params: map[string]any{"to": "+1555", "n": 2.0}}, EndpointID: "v"},
		TaskRouter: &token.TaskRouterGrant{WorkspaceSID: sid("WS"), WorkerSID: sid("WK"), Role: "worker"},
		Player:     map[string]any{"playbackGrant": map[string]any{"expiration": 5.0}},
		RTC:        &token.RTCGrant{ConfigurationProfileSID: sid("CJ")},
	}
	_, value, err := m.Start("alice", g, 600)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Open(value)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Grants, g) {
		t.Errorf("grants after Open:\n %#v\nwant\n %#v", got.Grants, g)
	}
}
