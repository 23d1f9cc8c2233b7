package mint

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/token"
)

// awkward are strings that exercise every escaping rule of encoding/json.
var awkward = []string{
	"", "My Room", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "héllo wörld ✓ 🎥", "line\u2028sep\u2029para", "bad \xff\xfe utf8", "\xe2\x80",
	"'single' /slash/ +plus= ?q#", strings.Repeat("x", 300),
}

// grantCombos returns every subset of the grants the fast path writes,
// with field values drawn from the awkward strings, plus voice shapes.
func grantCombos(rng *rand.Rand) []token.Grants {
	pick := func() string { return awkward[rng.IntN(len(awkward))] }
	var out []token.Grants
	for mask := range 1 << 7 {
		for range 3 {
			var g token.Grants
			if rng.IntN(4) > 0 {
				g.Identity = pick()
			}
			if mask&1 != 0 {
				g.Video = &token.VideoGrant{Room: pick()}
			}
			if mask&2 != 0 {
				g.Chat = &token.ChatGrant{ServiceSID: pick(), EndpointID: pick(), DeploymentRoleSID: pick(), PushCredentialSID: pick()}
			}
			if mask&4 != 0 {
				g.IPMessaging = &token.ChatGrant{ServiceSID: pick(), EndpointID: pick()}
			}
			if mask&8 != 0 {
				g.Sync = &token.SyncGrant{ServiceSID: pick(), EndpointID: pick()}
			}
			if mask&16 != 0 {
				v := &token.VoiceGrant{PushCredentialSID: pick(), EndpointID: pick()}
				switch rng.IntN(4) {
				case 1:
					v.Incoming = &token.VoiceIncoming{Allow: true}
				case 2:
					v.Incoming = &token.VoiceIncoming{}
				}
				switch rng.IntN(4) {
				case 1:
					v.Outgoing = &token.VoiceOutgoing{ApplicationSID: pick()}
				case 2:
					v.Outgoing = &token.VoiceOutgoing{}
				case 3:
					v.Outgoing = &token.VoiceOutgoing{Params: map[string]any{"ignored": "without an application"}}
				}
				g.Voice = v
			}
			if mask&32 != 0 {
				g.TaskRouter = &token.TaskRouterGrant{WorkspaceSID: pick(), WorkerSID: pick(), Role: pick()}
			}
			if mask&64 != 0 {
				g.RTC = &token.RTCGrant{ConfigurationProfileSID: pick()}
			}
			out = append(out, g)
		}
	}
	return out
}

// TestFastPathIsGolangJWT proves the fast path byte-identical to golang-jwt,
// signature included: for every combination of the grants it writes, with
// and without a region, iat, nbf and awkward strings everywhere.
func TestFastPathIsGolangJWT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	combos := grantCombos(rng)
	for _, region := range []string{"", "ie1"} {
		m, err := New(Credentials{AccountSID: "AC" + strings.Repeat("a", 32), APIKeySID: "SK" + strings.Repeat("b", 32),
			APIKeySecret: "secret with \"quotes\" and ✓", Region: region}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range combos {
			c := token.Claims{JTI: m.creds.APIKeySID + "-1700000000", Grants: g, Iss: m.creds.APIKeySID, Sub: m.creds.AccountSID,
				Exp: 1_700_003_600 + int64(i)}
			if i%2 == 0 {
				c.Nbf = 1_700_000_000
			}
			if i%3 == 0 {
				c.Iat = 1_700_000_001
			}
			if i%5 == 0 {
				c.JTI, c.Iss, c.Sub = awkward[i%len(awkward)], awkward[(i+1)%len(awkward)], awkward[(i+2)%len(awkward)]
			}
			got, ok := m.fast.sign(&c)
			if !ok {
				t.Fatalf("combo %d: fast path refused %+v", i, g)
			}
			want, err := m.signJWT(c)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("combo %d (region %q): fast path differs from golang-jwt\n fast %s\n jwt  %s", i, region, got, want)
			}
		}
	}
}

// TestFastPathDeclines checks that the grants the fast path cannot write
// are left to golang-jwt, and that Mint's tokens still match it.
func TestFastPathDeclines(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m, err := New(Credentials{AccountSID: "AC" + strings.Repeat("a", 32), APIKeySID: "SK" + strings.Repeat("b", 32), APIKeySecret: "s"},
		func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []token.Grants{
		{Player: map[string]any{"playbackGrant": map[string]any{"expiration": 5.0}}},
		{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP" + strings.Repeat("c", 32), Params: map[string]any{"to": "<b>"}}}},
	} {
		c := token.Claims{JTI: "x", Grants: g, Iss: "i", Sub: "s", Exp: 2}
		if _, ok := m.fast.sign(&c); ok {
			t.Errorf("fast path accepted %+v, which it cannot write", g)
		}
		minted, err := m.Mint("alice", g, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.signJWT(minted.Claims)
		if err != nil {
			t.Fatal(err)
		}
		if minted.Token != want {
			t.Errorf("Mint = %s\nwant    %s", minted.Token, want)
		}
	}
}

// TestMintUsesFastPath checks that an ordinary token goes through the fast
// path and still equals golang-jwt's, and that the signer's pooled buffers
// never leak one token into the next.
func TestMintUsesFastPath(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m, err := New(Credentials{AccountSID: "AC" + strings.Repeat("a", 32), APIKeySID: "SK" + strings.Repeat("b", 32), APIKeySecret: "s"},
		func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	long := token.Grants{Video: &token.VideoGrant{Room: strings.Repeat("r", 200)}, Chat: &token.ChatGrant{EndpointID: strings.Repeat("e", 200)}}
	short := token.Grants{Video: &token.VideoGrant{}}
	for _, g := range []token.Grants{long, short, long, short} {
		minted, err := m.Mint("alice", g, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(minted.Token) || strings.Count(minted.Token, ".") != 2 {
			t.Fatalf("malformed token %q", minted.Token)
		}
		want, err := m.signJWT(minted.Claims)
		if err != nil {
			t.Fatal(err)
		}
		if minted.Token != want {
			t.Errorf("Mint = %s\nwant    %s", minted.Token, want)
		}
		if _, err := m.Verify(minted.Token); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
}

// TestFastPathConcurrent mints from many goroutines at once: the pooled
// buffers and HMACs must never mix two tokens (run with -race).
func TestFastPathConcurrent(t *testing.T) {
	m, err := New(Credentials{AccountSID: "AC" + strings.Repeat("a", 32), APIKeySID: "SK" + strings.Repeat("b", 32), APIKeySecret: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	combos := grantCombos(rand.New(rand.NewPCG(9, 10)))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(combos); i += 8 {
				c := token.Claims{JTI: "j", Grants: combos[i], Iss: "i", Sub: "s", Exp: int64(i)}
				got, _ := m.fast.sign(&c)
				want, _ := m.signJWT(c)
				if got != want {
					errs <- fmt.Sprintf("combo %d differs under concurrency", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
