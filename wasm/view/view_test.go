package view_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

// tutorialToken is the sample token of the tutorial tokenlab started from.
const tutorialToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0.eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDciLCJncmFudHMiOnsidmlkZW8iOnsicm9vbSI6Ik15IFJvb20ifSwiaWRlbnRpdHkiOiJzdXNhbiJ9LCJpc3MiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxIiwiZXhwIjoxNjEwMzgzMzQ3LCJuYmYiOjE2MTAzNzk3NDcsInN1YiI6IkFDMTVjMTczN2JmMTQwNjRkMjI3OGQ2MTZmYWNlM2YxN2YifQ.6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

// fake builds an unsigned token around a payload, for display tests.
func fake(t *testing.T, payload string) *token.Token {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	tok, err := token.Decode(enc([]byte(`{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`)) + "." + enc([]byte(payload)) + ".c2ln")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return tok
}

func TestCardsTutorialToken(t *testing.T) {
	tok, err := token.Decode(tutorialToken)
	if err != nil {
		t.Fatal(err)
	}
	cards := view.Cards(tok)
	if len(cards) != 1 {
		t.Fatalf("got %d cards, want 1: %+v", len(cards), cards)
	}
	c := cards[0]
	if c.Key != "video" || c.Title != "Programmable Video" || !c.Known {
		t.Errorf("card = %+v", c)
	}
	if len(c.Allows) != 1 || c.Allows[0] != `Join the video room "My Room" only.` {
		t.Errorf("Allows = %q", c.Allows)
	}
	if c.JSON != "{\n  \"room\": \"My Room\"\n}" {
		t.Errorf("JSON = %q", c.JSON)
	}
}

func TestCardsEveryGrant(t *testing.T) {
	tok := fake(t, `{"jti":"x","iss":"SK","sub":"AC","exp":2,"grants":{
		"identity":"alice smith",
		"video":{},
		"chat":{"service_sid":"IS00000000000000000000000000000001","push_credential_sid":"CR00000000000000000000000000000001"},
		"ip_messaging":{},
		"data_sync":{"service_sid":"IS00000000000000000000000000000002"},
		"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP00000000000000000000000000000001","params":{"a":"1"}}},
		"task_router":{"workspace_sid":"WS00000000000000000000000000000001","worker_sid":"WK00000000000000000000000000000001","role":"worker"},
		"player":{"playbackGrant":{"a":1}},
		"rtc":{"configuration_profile_sid":"VS00000000000000000000000000000001"},
		"bogus":{"x":1}}}`)
	cards := view.Cards(tok)
	var keys []string
	text := map[string]string{}
	for _, c := range cards {
		keys = append(keys, c.Key)
		text[c.Key] = strings.Join(c.Allows, " ")
		if c.JSON == "" || !json.Valid([]byte(c.JSON)) {
			t.Errorf("%s: raw JSON %q", c.Key, c.JSON)
		}
		if c.Known != (c.Key != "bogus") {
			t.Errorf("%s: Known = %v", c.Key, c.Known)
		}
	}
	if got := strings.Join(keys, ","); got != "video,chat,ip_messaging,data_sync,voice,task_router,player,rtc,bogus" {
		t.Errorf("keys = %s", got)
	}
	wants := map[string][]string{
		"video":        {"any video room"},
		"chat":         {"IS00000000000000000000000000000001", "push notifications"},
		"ip_messaging": {"No chat service"},
		"data_sync":    {"Sync service IS00000000000000000000000000000002"},
		"voice":        {"AP00000000000000000000000000000001", "1 parameter", "incoming calls", "only letters"},
		"task_router":  {"WS00000000000000000000000000000001", "as worker WK", `role "worker"`},
		"player":       {"Live stream"},
		"rtc":          {"VS00000000000000000000000000000001"},
		"bogus":        {"no grant \"bogus\""},
	}
	for k, ws := range wants {
		for _, w := range ws {
			if !strings.Contains(text[k], w) {
				t.Errorf("%s card %q lacks %q", k, text[k], w)
			}
		}
	}
}

func TestVoiceWithoutCalls(t *testing.T) {
	cards := view.Cards(fake(t, `{"jti":"x","exp":2,"grants":{"identity":"bob","voice":{}}}`))
	if len(cards) != 1 || !strings.Contains(cards[0].Allows[0], "neither place nor receive") {
		t.Errorf("cards = %+v", cards)
	}
}

func TestStatusAt(t *testing.T) {
	exp := time.Unix(1000, 0)
	lead := 10 * time.Second
	tests := []struct {
		name     string
		now      time.Time
		exp      time.Time
		renewing bool
		want     view.Status
	}{
		{"no token", exp, time.Time{}, false, view.SignedOut},
		{"fresh", exp.Add(-time.Minute), exp, false, view.Valid},
		{"inside the lead", exp.Add(-5 * time.Second), exp, false, view.Expiring},
		{"renewing", exp.Add(-5 * time.Second), exp, true, view.Renewing},
		{"expired", exp, exp, false, view.Expired},
		{"expired while renewing", exp.Add(time.Second), exp, true, view.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := view.StatusAt(tt.now, tt.exp, lead, tt.renewing); got != tt.want {
				t.Errorf("StatusAt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{view.Countdown(59*time.Minute + 58*time.Second + 900*time.Millisecond), "59m 58s"},
		{view.Countdown(3*time.Hour + 2*time.Minute + 1*time.Second), "3h 02m 01s"},
		{view.Countdown(4 * time.Second), "4s"},
		{view.Countdown(-500 * time.Millisecond), "expired"},
		{view.Countdown(-3 * time.Second), "expired 3s ago"},
		{view.Countdown(24 * time.Hour), "24h 00m 00s"},
		{view.Countdown(50*time.Hour + 5*time.Minute), "2d 02h 05m"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Time{}), "never (no exp claim)"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Unix(1700000004, 0)), "4s"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Unix(1699999990, 0)), "expired 10s ago"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), "in more than 100 years"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)), "expired more than 100 years ago"},
		{view.ExpiresIn(time.Unix(1700000000, 0), time.Unix(1700000000+400*86400, 0)), "400d 00h 00m"},
		{view.Offset(176*time.Millisecond, 530*time.Millisecond), "server clock matches this device (±530 ms)"},
		{view.Offset(-600*time.Millisecond, 530*time.Millisecond), "server clock 0.600 s behind this device (±530 ms)"},
		{view.UTC(time.Unix(1610383347, 0)), "2021-01-11 16:42:27 UTC"},
		{view.UTC(time.Time{}), "—"},
		{view.Offset(1234*time.Millisecond, 3*time.Millisecond), "server clock 1.234 s ahead of this device (±3 ms)"},
		{view.Offset(-45*time.Millisecond, 0), "server clock 0.045 s behind this device"},
		{view.Offset(300*time.Microsecond, 2*time.Millisecond), "server clock matches this device (±2 ms)"},
		{view.Pretty([]byte(`{"a":[1,2]}`)), "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{view.Pretty([]byte(`not json`)), "not json"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	iss, exp := time.Unix(0, 0), time.Unix(100, 0)
	for _, tt := range []struct {
		now  int64
		want float64
	}{{0, 1}, {25, 0.75}, {100, 0}, {200, 0}, {-5, 1}} {
		if got := view.Progress(time.Unix(tt.now, 0), iss, exp); got != tt.want {
			t.Errorf("Progress at %d = %v, want %v", tt.now, got, tt.want)
		}
	}
	if got := view.Progress(iss, exp, exp); got != 0 {
		t.Errorf("Progress of a zero-length token = %v", got)
	}
}

func TestBuildGrants(t *testing.T) {
	box := func(name string, on bool) view.Input { return view.Input{Name: name, Checkbox: true, Checked: on} }
	val := func(name, v string) view.Input { return view.Input{Name: name, Value: v} }
	tests := []struct {
		name    string
		inputs  []view.Input
		want    string
		wantErr string
	}{
		{"nothing ticked asks for the server's default", []view.Input{box("grants.video", false), val("grants.video.room", "r")}, "", ""},
		{"only ticked grants, only filled fields", []view.Input{
			box("grants.video", true), val("grants.video.room", " My Room "),
			box("grants.chat", false), val("grants.chat.service_sid", "IS1"),
			box("grants.voice", true), val("grants.voice.outgoing.application_sid", "AP1"),
			box("grants.voice.incoming.allow", true), val("grants.voice.push_credential_sid", ""),
		}, `{"video":{"room":"My Room"},"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP1"}}}`, ""},
		{"unticked boolean is left out", []view.Input{box("grants.voice", true), box("grants.voice.incoming.allow", false)}, `{"voice":{}}`, ""},
		{"task router", []view.Input{box("grants.task_router", true), val("grants.task_router.workspace_sid", "WS1"), val("grants.task_router.worker_sid", "WK1"), val("grants.task_router.role", "supervisor")},
			`{"task_router":{"role":"supervisor","worker_sid":"WK1","workspace_sid":"WS1"}}`, ""},
		{"player raw JSON", []view.Input{box("grants.player", true), val("grants.player.json", ` {"playbackGrant": {"x": 1}} `)}, `{"player":{"playbackGrant":{"x":1}}}`, ""},
		{"player empty", []view.Input{box("grants.player", true), val("grants.player.json", "")}, `{"player":{}}`, ""},
		{"player not an object", []view.Input{box("grants.player", true), val("grants.player.json", "[1]")}, "", "grants.player must be a JSON object"},
		{"player broken but unticked", []view.Input{box("grants.player", false), val("grants.player.json", "{")}, "", ""},
		{"other inputs ignored", []view.Input{val("username", "u"), box("grants.rtc", true), val("grants.rtc.configuration_profile_sid", "VS1")}, `{"rtc":{"configuration_profile_sid":"VS1"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := view.BuildGrants(tt.inputs)
			if tt.wantErr != "" {
				var fe *token.FieldError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a FieldError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Every control of the page's grant builder, filled with valid values,
// must give grants the server's strict parse accepts.
func TestBuildGrantsServerAccepts(t *testing.T) {
	box := func(name string) view.Input { return view.Input{Name: name, Checkbox: true, Checked: true} }
	val := func(name, v string) view.Input { return view.Input{Name: name, Value: v} }
	sid := func(prefix string) string { return prefix + "0123456789abcdef0123456789abcdef" }
	got, err := view.BuildGrants([]view.Input{
		box("grants.video"), val("grants.video.room", "My Room"),
		box("grants.chat"), val("grants.chat.service_sid", sid("IS")),
		box("grants.ip_messaging"), val("grants.ip_messaging.service_sid", sid("IS")),
		box("grants.data_sync"), val("grants.data_sync.service_sid", sid("IS")),
		box("grants.voice"), val("grants.voice.outgoing.application_sid", sid("AP")),
		box("grants.voice.incoming.allow"), val("grants.voice.push_credential_sid", sid("CR")),
		box("grants.task_router"), val("grants.task_router.workspace_sid", sid("WS")),
		val("grants.task_router.worker_sid", sid("WK")), val("grants.task_router.role", "worker"),
		box("grants.rtc"), val("grants.rtc.configuration_profile_sid", sid("VS")),
		box("grants.player"), val("grants.player.json", `{"playbackGrant":{"requestCredentials":null}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := token.ParseGrantsStrict(got)
	if err != nil {
		t.Fatalf("ParseGrantsStrict(%s): %v", got, err)
	}
	if keys := strings.Join(g.Keys(), ","); keys != strings.Join(token.GrantKeys, ",") {
		t.Errorf("grants %s, want every grant %v", keys, token.GrantKeys)
	}
}

func TestFieldFor(t *testing.T) {
	names := []string{"username", "grants.voice", "grants.voice.outgoing.application_sid", "grants.video"}
	for _, tt := range []struct{ field, want string }{
		{"username", "username"},
		{"grants.voice.outgoing.application_sid", "grants.voice.outgoing.application_sid"},
		{"grants.voice.outgoing.params", "grants.voice"},
		{"grants.videox", ""},
		{"ttl", ""},
	} {
		if got := view.FieldFor(tt.field, names); got != tt.want {
			t.Errorf("FieldFor(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
}

// Times must agree with token.Claims' own methods, which it stands in for.
func TestTimesMatchClaims(t *testing.T) {
	for _, c := range []token.Claims{
		{JTI: "SK1-1610379747", Nbf: 1610379747, Exp: 1610383347},
		{JTI: "SK1-1610379747", Iat: 1610379000, Exp: 1610383347},
		{JTI: "SK1-1610379747", Exp: 1610383347},
		{JTI: "no-time-here", Exp: 5},
		{},
	} {
		issued, nbf, exp := token.Times(c)
		if !issued.Equal(c.IssuedAt()) {
			t.Errorf("%+v: issued %v, want %v", c, issued, c.IssuedAt())
		}
		if c.Exp != 0 && !exp.Equal(c.ExpiresAt()) || c.Exp == 0 && !exp.IsZero() {
			t.Errorf("%+v: exp %v", c, exp)
		}
		if c.Nbf != 0 && nbf.Unix() != c.Nbf || c.Nbf == 0 && !nbf.IsZero() {
			t.Errorf("%+v: nbf %v", c, nbf)
		}
	}
}

// TestUTCMatchesFormat checks the hand-written formatting against the
// standard library's, which the page's program does not link.
func TestUTCMatchesFormat(t *testing.T) {
	for _, sec := range []int64{0, 1, 59, 1610383347, 1_700_003_600, -1, -62135596799, 253402300799, 253402300800, 4_102_444_800 + 86399} {
		at := time.Unix(sec, 0).In(time.FixedZone("X", 5*3600+1800))
		want := at.UTC().Format("2006-01-02 15:04:05") + " UTC"
		if got := view.UTC(at); got != want {
			t.Errorf("UTC(%d) = %q, want %q", sec, got, want)
		}
	}
}
