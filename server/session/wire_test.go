package session

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/token"
)

// plainStrings and escapedStrings are values for every string of a wire: plain ones the fast
// reader takes, and ones json.Marshal escapes, which it must leave to
// encoding/json.
var (
	plainStrings   = []string{"", "alice", "My Room", "é ✓ 🎥", "IS0123456789abcdef0123456789abcdef", strings.Repeat("r", 300)}
	escapedStrings = []string{"<b>&amp;", `quote"`, `back\slash`, "tab\t", "\u2028", "bad\xff"}
)

// wireSample returns a random wire: every subset of the grants, random
// strings, sometimes a voice or player grant.
func wireSample(rng *rand.Rand) wire {
	pick := func() string {
		if rng.IntN(40) == 0 {
			return escapedStrings[rng.IntN(len(escapedStrings))]
		}
		return plainStrings[rng.IntN(len(plainStrings))]
	}
	maybe := func() bool { return rng.IntN(2) == 0 }
	var g sealedGrants
	if maybe() {
		g.Identity = pick()
	}
	if maybe() {
		g.Video = &token.VideoGrant{Room: pick()}
	}
	if maybe() {
		g.Chat = &token.ChatGrant{ServiceSID: pick(), EndpointID: pick(), DeploymentRoleSID: pick(), PushCredentialSID: pick()}
	}
	if maybe() {
		g.IPMessaging = &token.ChatGrant{ServiceSID: pick()}
	}
	if maybe() {
		g.Sync = &token.SyncGrant{ServiceSID: pick(), EndpointID: pick()}
	}
	if maybe() {
		g.TaskRouter = &token.TaskRouterGrant{WorkspaceSID: pick(), WorkerSID: pick(), Role: pick()}
	}
	if maybe() {
		g.RTC = &token.RTCGrant{ConfigurationProfileSID: pick()}
	}
	if rng.IntN(8) == 0 {
		g.Voice = &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}, EndpointID: pick()}
	}
	if rng.IntN(8) == 0 {
		g.Player = map[string]any{"playbackGrant": map[string]any{"n": 1.0}}
	}
	return wire{ID: pick(), Identity: pick(), Grants: g, TTL: rng.Int64N(86400), Created: rng.Int64(), Expires: -rng.Int64N(1 << 40)}
}

// TestDecodeWireIsEncodingJSON checks the fast reader against
// encoding/json on Seal's output for thousands of random sessions, and
// that it really takes the plain ones.
func TestDecodeWireIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fast := 0
	for range 5000 {
		w := wireSample(rng)
		data, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		var want wire
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, err := decodeWire(data)
		if err != nil {
			t.Fatalf("decodeWire(%s): %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeWire(%s)\n got  %+v\n want %+v", data, got, want)
		}
		var direct wire
		r := reader{s: string(data)}
		if r.wire(&direct) {
			fast++
		} else if !strings.Contains(string(data), `\`) && w.Grants.Voice == nil && w.Grants.Player == nil {
			t.Errorf("the fast reader refused a plain payload: %s", data)
		}
	}
	if fast < 1000 {
		t.Errorf("the fast reader took only %d of 5000 payloads", fast)
	}
}

// FuzzDecodeWire feeds the fast reader anything: whatever it accepts,
// encoding/json must read the same way.
func FuzzDecodeWire(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		data, _ := json.Marshal(wireSample(rng))
		f.Add(data)
	}
	f.Add([]byte(`{"i":"x","u":"y","g":{},"t":01,"c":1,"e":2}`))
	f.Add([]byte(`{"i":"x","u":"y","g":{"video":{}},"t":-0,"c":1,"e":2} `))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got wire
		r := reader{s: string(data)}
		if !r.wire(&got) {
			return
		}
		var want wire
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("the fast reader accepted %q, which encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n fast %+v\n json %+v", data, got, want)
		}
	})
}
