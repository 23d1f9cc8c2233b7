package view_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

// The page builds its requests and reads the server's answers without
// encoding/json, which the program no longer links. These tests hold that
// code to encoding/json, as the page used it before, as the oracle.

// tricky holds strings json.Marshal escapes in every way it can.
var tricky = []string{
	"", "alice", "a b", `quote " and \ backslash`, "<script>&amp;</script>",
	"tab\tnew\nline\r", "\x00\x01\x1f\x7f", "é ü 中文 🎉", "line\u2028sep\u2029",
	"bad \xff utf-8 \xc3", "\ufffd", strings.Repeat("x", 300),
}

// signInRequest is the struct the page used to marshal for POST /token.
type signInRequest struct {
	Username string          `json:"username"`
	Password string          `json:"password"`
	TTL      *int64          `json:"ttl,omitempty"`
	Grants   json.RawMessage `json:"grants,omitempty"`
}

func TestSignInBodyMatchesMarshal(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	grants, err := view.BuildGrants([]view.Input{
		{Name: "grants.video", Checkbox: true, Checked: true}, {Name: "grants.video.room", Value: "<room> & \u2028"},
		{Name: "grants.player", Checkbox: true, Checked: true}, {Name: "grants.player.json", Value: ` { "a" : "<b>" , "c": [ 1, 2 ] } `},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ttl := range []*int64{nil, n(0), n(1), n(-5), n(86400), n(1 << 62)} {
		for _, g := range [][]byte{nil, grants} {
			for i, user := range tricky {
				pass := tricky[len(tricky)-1-i]
				want, err := json.Marshal(signInRequest{Username: user, Password: pass, TTL: ttl, Grants: g})
				if err != nil {
					t.Fatal(err)
				}
				if got := view.SignInBody(user, pass, ttl, g); !bytes.Equal(got, want) {
					t.Errorf("SignInBody(%q, %q, %v, %s)\n got %s\nwant %s", user, pass, ttl, g, got, want)
				}
			}
		}
	}
}

func TestVerifyBodyMatchesMarshal(t *testing.T) {
	for _, s := range append(tricky, tutorialToken) {
		want, _ := json.Marshal(map[string]string{"token": s})
		if got := view.VerifyBody(s); !bytes.Equal(got, want) {
			t.Errorf("VerifyBody(%q) = %s, want %s", s, got, want)
		}
	}
}

// oldBuildGrantsTail is how the page wrote BuildGrants' result before:
// json.Marshal of the grants with the player's raw JSON as a RawMessage.
func oldBuildGrantsTail(grants map[string]any, player []byte) []byte {
	if player != nil {
		grants["player"] = json.RawMessage(player)
	}
	b, err := json.Marshal(grants)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBuildGrantsMatchesMarshal(t *testing.T) {
	for _, s := range tricky {
		trimmed := strings.TrimSpace(s)
		players := []string{`{}`, `{"s":` + string(mustMarshal(t, s)) + `}`, " {\n\t\"n\" : [ 1 , 2.5e3 , true , null ] ,\"o\":{ } } "}
		for _, player := range players {
			inputs := []view.Input{
				{Name: "grants.video", Checkbox: true, Checked: true}, {Name: "grants.video.room", Value: s},
				{Name: "grants.voice", Checkbox: true, Checked: true}, {Name: "grants.voice.incoming.allow", Checkbox: true, Checked: true},
				{Name: "grants.voice.outgoing.application_sid", Value: s},
				{Name: "grants.player", Checkbox: true, Checked: true}, {Name: "grants.player.json", Value: player},
			}
			video := map[string]any{}
			outgoing := map[string]any{}
			if trimmed != "" {
				video["room"] = trimmed
				outgoing["application_sid"] = trimmed
			}
			voice := map[string]any{"incoming": map[string]any{"allow": true}}
			if len(outgoing) > 0 {
				voice["outgoing"] = outgoing
			}
			want := oldBuildGrantsTail(map[string]any{"video": video, "voice": voice}, bytes.TrimSpace([]byte(player)))
			got, err := view.BuildGrants(inputs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("value %q, player %q:\n got %s\nwant %s", s, player, got, want)
			}
		}
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestPrettyMatchesIndent(t *testing.T) {
	tok, err := token.Decode(tutorialToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		string(tok.HeaderJSON), string(tok.PayloadJSON), `{}`, `[]`, `{"a":{},"b":[],"c":[{}]}`, ` {"a" : [ 1 , "x\"}" ] } `,
		`"s"`, `1e5`, `null`, `{"<":"\u2028"}`, `{"a":1}x`, `{`, ``, "{\"a\":1}\n",
	} {
		var b bytes.Buffer
		want := raw
		if json.Indent(&b, []byte(raw), "", "  ") == nil {
			want = b.String()
		}
		if got := view.Pretty([]byte(raw)); got != want {
			t.Errorf("Pretty(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A grant card's raw JSON is the grant token.Decode read: the "grants"
// key spelled exactly, as Twilio reads it, not another spelling of it.
func TestCardsRawJSONFromExactGrantsKey(t *testing.T) {
	tok := fake(t, `{"jti":"x","exp":2,"grants":{"identity":"a","video":{}},"Grants":{"video":{"room":"r"}}}`)
	cards := view.Cards(tok)
	if len(cards) != 1 || cards[0].JSON != "{}" {
		t.Errorf("cards = %+v, want one video card with JSON {}", cards)
	}
}
