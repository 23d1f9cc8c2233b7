package lint_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

// now is the fixed clock of every test: 600 s after the base token's nbf.
var now = time.Unix(1_700_000_600, 0)

const (
	keySID  = "SK21c17013f3face8fdc4e4623b0a9d2c1"
	acctSID = "AC15c1737bf14064d2278d616face3f17f"
	appSID  = "AP00000000000000000000000000000004"
	svcSID  = "IS00000000000000000000000000000001"
	nbf     = 1_700_000_000
)

var enc = base64.RawURLEncoding.EncodeToString

// sig32 is a signature of HS256's length.
var sig32 = enc(make([]byte, 32))

// tutorialToken is the sample token of the tutorial the project started
// from: valid from 1610379747 to 1610383347.
const tutorialToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0." +
	"eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDciLCJncmFudHMiOnsidmlkZW8iOnsicm9vbSI6Ik15IFJvb20ifSwiaWRlbnRpdHkiOiJzdXNhbiJ9LCJpc3MiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxIiwiZXhwIjoxNjEwMzgzMzQ3LCJuYmYiOjE2MTAzNzk3NDcsInN1YiI6IkFDMTVjMTczN2JmMTQwNjRkMjI3OGQ2MTZmYWNlM2YxN2YifQ." +
	"6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

// mod changes the base token's header and claims before they are encoded.
type mod func(h, c map[string]any)

// build returns a token a Twilio library would mint (HS256, video grant,
// identity alice, ttl 3600 from nbf), changed by mods.
func build(tb testing.TB, mods ...mod) string {
	tb.Helper()
	h := map[string]any{"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}
	c := map[string]any{
		"jti": keySID + "-1700000000", "iss": keySID, "sub": acctSID,
		"nbf": nbf, "exp": nbf + 3600,
		"grants": map[string]any{"identity": "alice", "video": map[string]any{"room": "r"}},
	}
	for _, m := range mods {
		m(h, c)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		tb.Fatal(err)
	}
	cj, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	return enc(hj) + "." + enc(cj) + "." + sig32
}

func setH(key string, v any) mod   { return func(h, _ map[string]any) { h[key] = v } }
func delH(key string) mod          { return func(h, _ map[string]any) { delete(h, key) } }
func set(key string, v any) mod    { return func(_, c map[string]any) { c[key] = v } }
func del(key string) mod           { return func(_, c map[string]any) { delete(c, key) } }
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// grants replaces the grants claim with the given JSON.
func grants(js string) mod { return set("grants", raw(js)) }

// life sets nbf and exp around now: valid from now+from for ttl seconds.
func life(from, ttl int64) mod {
	return func(_, c map[string]any) {
		c["nbf"] = now.Unix() + from
		c["exp"] = now.Unix() + from + ttl
		c["jti"] = keySID + "-1700000000"
	}
}

func TestCheck(t *testing.T) {
	header := func(h string) string { return enc([]byte(h)) }
	payload := func(p string) string { return enc([]byte(p)) }
	goodH := header(`{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`)
	goodP := strings.Split(build(t), ".")[1]

	tests := []struct {
		name string
		raw  string
		// want lists every finding as "severity code field", optionally
		// followed by ": " and words its message must contain.
		want []string
	}{
		{"a token as Twilio's libraries mint it", build(t), nil},
		{"a whole exp written as a float", build(t, set("exp", raw("1.7000036e9"))), nil},
		{"an email identity without a voice grant", build(t, grants(`{"identity":"alice@example.com","video":{"room":"r"}}`)), nil},
		{"ttl of exactly 86400 without voice", build(t, life(-600, 86400)), nil},
		{"ttl of 86399 with voice", build(t, life(-600, 86399), grants(`{"identity":"alice","voice":{"incoming":{"allow":true}}}`)), nil},
		{"HS512 with its 64-byte signature", strings.TrimSuffix(build(t, setH("alg", "HS512")), sig32) + enc(make([]byte, 64)),
			[]string{"warning 20102 header.alg: twilio-node"}},

		// Not a token at all.
		{"empty", "", []string{"error 20160 token: empty"}},
		{"one segment", "hello", []string{"error 20160 token: no dot"}},
		{"four segments", "a.b.c.d", []string{"error 20160 token: this has 4"}},
		{"JSON instead of a token", `{"token":"eyJ"}`, []string{"error 20160 token: this is JSON"}},
		{"an Account SID", acctSID, []string{"error 20160 token: Account SID"}},
		{"an API key SID", keySID, []string{"error 20160 token: API key SID"}},
		{"a secret", "0123456789abcdef0123456789abcdef", []string{"error 20160 token: revoke it"}},
		{"bad base64 in the header", "e!." + goodP + "." + sig32, []string{"error 20160 header: cannot be decoded"}},
		{"bad base64 in the payload", goodH + ".p*." + sig32, []string{"error 20160 payload: cannot be decoded"}},
		{"header not JSON", header(`{typ}`) + "." + goodP + "." + sig32, []string{"error 20160 header: not valid JSON"}},
		{"header an array", header(`[]`) + "." + goodP + "." + sig32, []string{"error 20160 header: an array"}},
		{"payload not JSON", goodH + "." + payload(`exp=1`) + "." + sig32, []string{"error 20160 payload: not valid JSON"}},
		{"payload a string", goodH + "." + payload(`"alice"`) + "." + sig32, []string{"error 20160 payload: a string"}},

		// Signature.
		{"unsigned", strings.TrimSuffix(build(t), sig32), []string{"error 20107 signature: no signature"}},
		{"bad base64 in the signature", strings.TrimSuffix(build(t), sig32) + "s~g", []string{"error 20160 signature: cannot be decoded"}},
		{"signature cut short", strings.TrimSuffix(build(t), sig32) + enc(make([]byte, 16)), []string{"error 20107 signature: is 16 bytes, an HS256 signature is 32"}},
		{"HS384 with an HS256-sized signature", build(t, setH("alg", "HS384")), []string{"warning 20102 header.alg", "error 20107 signature: HS384 signature is 48"}},

		// Header.
		{"cty missing", build(t, delH("cty")), []string{`error 20102 header.cty: set "cty" to "twilio-fpa;v=1"`}},
		{"cty wrong", build(t, setH("cty", "JWT")), []string{`error 20102 header.cty: is "JWT", must be "twilio-fpa;v=1"`}},
		{"cty a number", build(t, setH("cty", 1)), []string{"error 20102 header.cty: not a number"}},
		{"typ missing", build(t, delH("typ")), []string{"error 20102 header.typ: no typ"}},
		{"typ wrong", build(t, setH("typ", "JWS")), []string{`error 20102 header.typ: is "JWS"`}},
		{"alg missing", build(t, delH("alg")), []string{"error 20102 header.alg: no alg"}},
		{"alg none", build(t, setH("alg", "none")), []string{"error 20102 header.alg: unsigned"}},
		{"alg RS256", build(t, setH("alg", "RS256")), []string{"error 20102 header.alg: not with a key pair"}},
		{"alg a number", build(t, setH("alg", 256)), []string{"error 20102 header.alg: not a number"}},
		{"region us1", build(t, setH("twr", "us1")), []string{"info 20102 header.twr: default region"}},
		{"region ie1", build(t, setH("twr", "ie1")), []string{"info 20102 header.twr: API key created in ie1"}},
		{"region a legacy edge", build(t, setH("twr", "de1")), []string{"warning 20102 header.twr: legacy Voice SDK edge"}},
		{"region in capitals", build(t, setH("twr", "IE1")), []string{`warning 20102 header.twr: write "ie1"`}},
		{"region unknown", build(t, setH("twr", "mars1")), []string{"warning 20102 header.twr: not a Twilio Region (us1, ie1 and au1)"}},
		{"region a number", build(t, setH("twr", 1)), []string{"warning 20102 header.twr: not a number"}},
		{"header key in capitals", build(t, setH("CTY", "twilio-fpa;v=1")), []string{`warning 20102 header.CTY: write "cty"`}},
		{"unknown header key", build(t, setH("kid", "k1")), []string{`info 20102 header.kid: Twilio ignores it`}},

		// Issuer and subject.
		{"iss missing", build(t, del("iss")), []string{"error 20103 iss: no iss"}},
		{"iss a number", build(t, set("iss", 5)), []string{"error 20103 iss: must be a string, not a number"}},
		{"iss missing and jti not from a key", build(t, del("iss"), set("jti", "user-1700000000")), []string{"error 20103 iss", `warning 20101 jti: "{API key SID}-{unix seconds}"`}},
		{"iss an Account SID", build(t, set("iss", acctSID), set("jti", acctSID+"-1700000000")), []string{"error 20103 iss: is an Account SID"}},
		{"iss malformed", build(t, set("iss", "SK123"), set("jti", "SK123-1700000000")), []string{`error 20103 iss: must be SK followed by 32 hex digits (34 characters), got "SK123"`}},
		{"sub missing", build(t, del("sub")), []string{"error 20103 sub: no sub"}},
		{"sub an API key SID", build(t, set("sub", keySID)), []string{"error 20103 sub: sub is the Account SID"}},
		{"iss and sub swapped", build(t, set("iss", acctSID), set("sub", keySID), set("jti", acctSID+"-1700000000")), []string{"error 20103 iss: Account SID", "error 20103 sub: swapped"}},
		{"sub malformed", build(t, set("sub", "AC-x")), []string{"error 20103 sub: must be AC followed by 32 hex digits"}},

		// jti.
		{"jti missing", build(t, del("jti")), []string{"warning 20101 jti: no jti"}},
		{"jti a number", build(t, set("jti", 7)), []string{"warning 20101 jti: not a number"}},
		{"jti without a time", build(t, set("jti", "abc")), []string{`warning 20101 jti: here "` + keySID + `-1700000600"`}},
		{"jti of another key", build(t, set("jti", "SK00000000000000000000000000000000-1700000000")), []string{"warning 20101 jti: does not start with iss"}},

		// exp, nbf, iat.
		{"exp missing", build(t, del("exp")), []string{"error 20104 exp: no exp"}},
		{"exp a string", build(t, set("exp", "1700003600")), []string{"error 20104 exp: not a string (write it without quotes)"}},
		{"exp with a fraction", build(t, set("exp", 1700003600.5)), []string{"error 20104 exp: without a fraction"}},
		{"exp out of range", build(t, set("exp", raw("1e30"))), []string{"error 20104 exp: out of range"}},
		{"exp beyond float range", build(t, set("exp", raw("1e400"))), []string{"error 20104 exp: out of range"}},
		{"exp beyond int64", build(t, set("exp", raw("99999999999999999999"))), []string{"error 20104 exp: out of range"}},
		{"exp zero", build(t, set("exp", 0)), []string{"error 20104 exp: is 0"}},
		{"exp negative", build(t, set("exp", -5)), []string{"error 20104 exp: is -5"}},
		{"exp null", build(t, set("exp", nil)), []string{"error 20104 exp: not null"}},
		{"expired", build(t, life(-4200, 3600)), []string{"error 20104 exp: expired 10m ago (at 2023-11-14T22:13:20Z)"}},
		{"expired this very second", build(t, life(-3600, 3600)), []string{"error 20104 exp: expired 0s ago"}},
		{"exp in milliseconds", build(t, set("exp", int64(1_700_003_600_000))), []string{"error 20104 exp: milliseconds (2023-11-14T23:13:20Z)"}},
		{"not yet valid", build(t, life(300, 3600)), []string{"error 20105 nbf: not valid for another 5m (nbf is 2023-11-14T22:28:20Z)"}},
		{"nbf a string", build(t, set("nbf", "soon")), []string{"error 20105 nbf: not a string"}},
		{"nbf negative", build(t, set("nbf", -1)), []string{"error 20105 nbf: is -1"}},
		{"nbf in milliseconds", build(t, set("nbf", int64(1_700_000_000_000))), []string{"error 20105 nbf: milliseconds", "error 20104 exp: never valid"}},
		{"exp before nbf", build(t, set("nbf", nbf), set("exp", nbf-1)), []string{"error 20104 exp: is not after nbf", "error 20104 exp: expired"}},
		{"iat a string", build(t, set("iat", "now")), []string{"warning 20101 iat: not a string"}},
		{"iat zero", build(t, set("iat", 0)), []string{"warning 20101 iat: is 0"}},

		// ttl.
		{"ttl over 24h", build(t, life(-600, 90000)), []string{"error 20157 exp: the token lives 25h (ttl 90000 s, from nbf to exp): Twilio allows at most 86400 s"}},
		{"ttl of 86400 with voice", build(t, life(-600, 86400), grants(`{"identity":"alice","voice":{"incoming":{"allow":true}}}`)), []string{"error 31207 exp: voice grant: the Voice SDK refuses tokens valid for more than 86399 s"}},
		{"ttl over 24h with voice", build(t, life(-600, 90000), grants(`{"identity":"alice","voice":{"incoming":{"allow":true}}}`)), []string{"error 20157 exp", "error 31207 exp"}},
		{"ttl from iat", build(t, del("nbf"), set("iat", nbf), set("exp", nbf+86401)), []string{"error 20157 exp: from iat to exp"}},
		{"ttl from the jti time", build(t, del("nbf"), set("exp", nbf+100000)), []string{"error 20157 exp: from the time in jti to exp"}},
		{"no issue time and exp 2 days away", build(t, del("nbf"), set("jti", "x"), set("exp", now.Unix()+2*86400)), []string{"error 20157 exp: exp is 2d from now", "warning 20101 jti"}},

		// Other claims.
		{"unknown claim", build(t, set("aud", "x")), []string{"info 20101 aud: Twilio ignores it"}},
		{"claim in capitals", build(t, set("Exp", 1)), []string{`warning 20101 Exp: write "exp"`}},
		{"identity at the top level too", build(t, set("identity", "alice")), []string{"warning 20106 identity: remove it"}},
		{"identity at the top level only", build(t, set("identity", "alice"), grants(`{"video":{"room":"r"}}`)), []string{"warning 20106 identity: move it into grants", "warning 20106 grants.identity: Video need one"}},
		{"empty claim name", build(t, set("", 1)), []string{`info 20101 "": Twilio ignores it`}},
		{"claim name with a newline", build(t, set("a\nb", 1)), []string{`info 20101 "a\nb"`}},
		{"huge claim name", build(t, set(strings.Repeat("k", 1000), 1)), []string{"info 20101 " + strings.Repeat("k", 120) + "…"}},
		{"capability token scope", build(t, set("scope", "scope:client:incoming")), []string{"warning 20101 scope: Capability Tokens"}},

		// Grants.
		{"grants missing", build(t, del("grants")), []string{"error 20106 grants: no grants claim"}},
		{"grants an array", build(t, grants(`[]`)), []string{"error 20106 grants: not an array"}},
		{"grants empty", build(t, grants(`{}`)), []string{"warning 20106 grants: no grant", "warning 20106 grants.identity: Video, Conversations, Sync and Voice need one"}},
		{"identity only", build(t, grants(`{"identity":"alice"}`)), []string{"warning 20106 grants: opens no Twilio product"}},
		{"unknown grant", build(t, grants(`{"identity":"alice","video":{"room":"r"},"sync":{}}`)), []string{`warning 20106 grants.sync: did you mean "data_sync"`}},
		{"only an unknown grant", build(t, grants(`{"identity":"alice","fax":{}}`)), []string{"warning 20106 grants.fax: not a Twilio grant", "warning 20106 grants: no grant"}},
		{"unknown field in a grant", build(t, grants(`{"identity":"alice","video":{"room":"r","name":"x"}}`)), []string{"warning 20106 grants.video.name: grants.video has: room"}},
		{"grant field in capitals", build(t, grants(`{"identity":"alice","video":{"Room":"r"}}`)), []string{`warning 20106 grants.video.Room: write "room"`, "info 20106 grants.video.room"}},
		{"grant of the wrong type", build(t, grants(`{"identity":"alice","video":"r"}`)), []string{"error 20106 grants.video: must be an object, not a string"}},
		{"grant null", build(t, grants(`{"identity":"alice","video":null}`)), []string{"error 20106 grants.video: not null"}},
		{"grant field of the wrong type", build(t, grants(`{"identity":"alice","video":{"room":5}}`)), []string{"error 20106 grants.video.room: must be a string, not the number 5"}},
		{"allow as a string", build(t, grants(`{"identity":"alice","voice":{"incoming":{"allow":"true"}}}`)), []string{"error 20106 grants.voice.incoming.allow: must be true or false, not a string"}},
		{"Sync service with a Serverless SID", build(t, grants(`{"identity":"alice","data_sync":{"service_sid":"ZS00000000000000000000000000000001"}}`)), []string{"error 20106 grants.data_sync.service_sid: ZS is a Serverless service"}},
		{"bad application SID", build(t, grants(`{"identity":"alice","voice":{"outgoing":{"application_sid":"AP1"}}}`)), []string{`error 20106 grants.voice.outgoing.application_sid: got "AP1": copy the SID`}},
		{"params without application", build(t, grants(`{"identity":"alice","voice":{"outgoing":{"params":{"a":"b"}}}}`)), []string{"error 20106 grants.voice.outgoing.params: needs grants.voice.outgoing.application_sid"}},
		{"identity missing", build(t, grants(`{"video":{"room":"r"},"voice":{"incoming":{"allow":true}},"task_router":{"workspace_sid":"WS00000000000000000000000000000005","worker_sid":"WK00000000000000000000000000000006"}}`)), []string{"warning 20106 grants.identity: no identity: Video and Voice need one"}},
		{"identity not needed by TaskRouter", build(t, grants(`{"task_router":{"workspace_sid":"WS00000000000000000000000000000005","worker_sid":"WK00000000000000000000000000000006"}}`)), nil},
		{"identity empty", build(t, grants(`{"identity":"","data_sync":{"service_sid":"`+svcSID+`"}}`)), []string{"warning 20106 grants.identity: the identity is empty: Sync need"}},
		{"identity a number", build(t, grants(`{"identity":42,"video":{"room":"r"}}`)), []string{"error 20106 grants.identity: must be a string, not the number 42"}},
		{"identity too long", build(t, grants(`{"identity":"`+strings.Repeat("a", 257)+`","video":{"room":"r"}}`)), []string{"error 51003 grants.identity: is 257 characters, over the 256"}},
		{"identity with a control character", build(t, grants(`{"identity":"a\u0007b","video":{"room":"r"}}`)), []string{"error 20106 grants.identity: control characters"}},
		{"identity with spaces at the ends", build(t, grants(`{"identity":"alice ","video":{"room":"r"}}`)), []string{"warning 20106 grants.identity: trim it"}},
		{"identity Voice cannot route", build(t, grants(`{"identity":"alice@example.com","voice":{"incoming":{"allow":true}}}`)), []string{"warning 20106 grants.identity: letters, digits and underscore"}},
		{"endpoint_id too long", build(t, grants(`{"identity":"alice","chat":{"service_sid":"`+svcSID+`","endpoint_id":"`+strings.Repeat("e", 300)+`"}}`)), []string{"error 51004 grants.chat.endpoint_id: at most 256 characters, got 300"}},
		{"incoming with allow false", build(t, grants(`{"identity":"alice","voice":{"incoming":{"allow":false},"outgoing":{"application_sid":"`+appSID+`"}}}`)), []string{"warning 20106 grants.voice.incoming: cannot receive calls"}},
		{"outgoing without application", build(t, grants(`{"identity":"alice","voice":{"incoming":{"allow":true},"outgoing":{}}}`)), []string{"warning 20106 grants.voice.outgoing: no application_sid"}},
		{"voice allowing nothing", build(t, grants(`{"identity":"alice","voice":{}}`)), []string{"warning 20106 grants.voice: neither incoming nor outgoing"}},
		{"chat without service", build(t, grants(`{"identity":"alice","chat":{}}`)), []string{"warning 20106 grants.chat.service_sid: is not set"}},
		{"ip_messaging", build(t, grants(`{"identity":"alice","ip_messaging":{"service_sid":"`+svcSID+`"}}`)), []string{"info 20106 grants.ip_messaging: legacy name"}},
		{"ip_messaging without service", build(t, grants(`{"identity":"alice","ip_messaging":{}}`)), []string{"warning 20106 grants.ip_messaging.service_sid", "info 20106 grants.ip_messaging"}},
		{"sync default service", build(t, grants(`{"identity":"alice","data_sync":{}}`)), []string{"info 20106 grants.data_sync.service_sid: default service"}},
		{"task_router without SIDs", build(t, grants(`{"task_router":{"role":"worker"}}`)), []string{"warning 20106 grants.task_router.workspace_sid", "warning 20106 grants.task_router.worker_sid"}},
		{"player", build(t, grants(`{"player":{"k":"v"}}`)), []string{"info 20106 grants.player: opaque"}},
		{"rtc", build(t, grants(`{"identity":"alice","rtc":{"configuration_profile_sid":"CP00000000000000000000000000000007"}}`)), []string{"info 20106 grants.rtc: deprecated"}},
		{"video without room", build(t, grants(`{"identity":"alice","video":{}}`)), []string{"info 20106 grants.video.room: any room"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFindings(t, lint.Check(tt.raw, now), tt.want)
		})
	}
}

// assertFindings checks that got holds exactly the findings want lists
// (as "severity code field[: words]") and nothing else.
func assertFindings(t *testing.T, got []lint.Finding, want []string) {
	t.Helper()
	var gotKeys, wantKeys []string
	for _, f := range got {
		gotKeys = append(gotKeys, string(f.Severity)+" "+itoa(f.Code)+" "+f.Field)
	}
	for _, w := range want {
		key, words, _ := strings.Cut(w, ": ")
		wantKeys = append(wantKeys, key)
		if words == "" {
			continue
		}
		if !slices.ContainsFunc(got, func(f lint.Finding) bool {
			return string(f.Severity)+" "+itoa(f.Code)+" "+f.Field == key && strings.Contains(f.Message, words)
		}) {
			t.Errorf("no finding %q saying %q", key, words)
		}
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("findings = %q, want %q", gotKeys, wantKeys)
	}
	if t.Failed() {
		for _, f := range got {
			t.Logf("  %s", f)
		}
	}
	checkInvariants(t, got)
}

// checkInvariants holds for every result of Check.
func checkInvariants(t testing.TB, got []lint.Finding) {
	t.Helper()
	if got == nil {
		t.Errorf("Check returned nil, want a non-nil slice")
	}
	last := 0
	rank := map[lint.Severity]int{lint.SeverityError: 0, lint.SeverityWarning: 1, lint.SeverityInfo: 2}
	for _, f := range got {
		r, ok := rank[f.Severity]
		if !ok {
			t.Errorf("finding %v has an unknown severity", f)
		}
		if r < last {
			t.Errorf("finding %v comes after a less serious one", f)
		}
		last = r
		if f.Code < 20000 || f.Code > 59999 || f.Field == "" || len(f.Message) < 10 {
			t.Errorf("finding %#v lacks a Twilio code, a field or a message", f)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestCheckTutorialToken(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want []string
	}{
		{"while valid", time.Unix(1_610_380_000, 0), nil},
		{"at the last valid second", time.Unix(1_610_383_346, 0), nil},
		{"at exp", time.Unix(1_610_383_347, 0), []string{"error 20104 exp: expired 0s ago (at 2021-01-11T16:42:27Z)"}},
		{"today", now, []string{"error 20104 exp: expired 2y307d ago"}},
		{"before nbf", time.Unix(1_610_379_700, 0), []string{"error 20105 nbf: not valid for another 47s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFindings(t, lint.Check(tutorialToken, tt.at), tt.want)
		})
	}
}

func TestCheckAcceptsPastedForms(t *testing.T) {
	for _, raw := range []string{" " + build(t) + "\n", "Bearer " + build(t)} {
		if got := lint.Check(raw, now); len(got) != 0 {
			t.Errorf("Check(%q) = %v, want nothing", raw, got)
		}
	}
}

func TestCheckOrdersBySeverity(t *testing.T) {
	got := lint.Check(build(t, setH("kid", "k"), set("jti", "x"), set("exp", "soon")), now)
	var sev []lint.Severity
	for _, f := range got {
		sev = append(sev, f.Severity)
	}
	want := []lint.Severity{lint.SeverityError, lint.SeverityWarning, lint.SeverityInfo}
	if !slices.Equal(sev, want) {
		t.Errorf("severities = %v, want %v", sev, want)
	}
}

func TestHasErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []lint.Finding
		want bool
	}{
		{"none", nil, false},
		{"warnings and info", []lint.Finding{{Severity: lint.SeverityWarning}, {Severity: lint.SeverityInfo}}, false},
		{"an error", []lint.Finding{{Severity: lint.SeverityInfo}, {Severity: lint.SeverityError}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lint.HasErrors(tt.in); got != tt.want {
				t.Errorf("HasErrors = %v, want %v", got, tt.want)
			}
		})
	}
	if !lint.HasErrors(lint.Check("", now)) || lint.HasErrors(lint.Check(build(t), now)) {
		t.Errorf("HasErrors disagrees with Check")
	}
}

func TestFindingJSONAndString(t *testing.T) {
	f := lint.Finding{Code: 20104, Severity: lint.SeverityError, Field: "exp", Message: "the token expired 3m ago"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"code":20104,"severity":"error","field":"exp","message":"the token expired 3m ago"}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || !slices.Equal(slices.Sorted(maps.Keys(m)), []string{"code", "field", "message", "severity"}) {
		t.Errorf("JSON keys = %v", m)
	}
	if got := f.String(); got != "error 20104 exp: the token expired 3m ago" {
		t.Errorf("String = %q", got)
	}
}

// Nothing the token holds reaches a message unbounded: a pasted megabyte
// must not flood a terminal.
func TestCheckShortensValues(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	for _, f := range lint.Check(build(t, setH("cty", long), set("iss", long), set("jti", long), setH("twr", long)), now) {
		if len(f.Message) > 400 {
			t.Errorf("%s %s: message is %d bytes", f.Severity, f.Field, len(f.Message))
		}
	}
}

// TestCheckWithinLeeway lints a token minted a few milliseconds "in the
// future" of an estimated clock, as the page sees one the server has just
// minted: within the estimate's uncertainty it is valid, beyond it not.
func TestCheckWithinLeeway(t *testing.T) {
	// The server signs at nbf+0.003 s; the page's estimate of the server's
	// clock is 6 ms behind, so it reads nbf-0.003 s.
	minted := build(t, set("nbf", nbf), set("exp", nbf+4))
	estimate := time.Unix(nbf, 0).Add(-3 * time.Millisecond)
	tests := []struct {
		name    string
		raw     string
		now     time.Time
		leeway  time.Duration
		wantNbf bool
		wantExp bool
	}{
		{"no leeway: one second early", minted, estimate, 0, true, false},
		{"leeway covers the estimate", minted, estimate, 50 * time.Millisecond, false, false},
		{"negative leeway is none", minted, estimate, -time.Second, true, false},
		{"really not yet valid", build(t, set("nbf", nbf+5), set("exp", nbf+60)), estimate, 50 * time.Millisecond, true, false},
		{"expiry is not postponed", minted, time.Unix(nbf+4, 0), time.Second, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotNbf, gotExp bool
			for _, f := range lint.CheckWithin(tt.raw, tt.now, tt.leeway) {
				gotNbf = gotNbf || (f.Code == lint.CodeNotYetValid && f.Field == "nbf")
				gotExp = gotExp || (f.Code == lint.CodeExpired && f.Field == "exp")
			}
			if gotNbf != tt.wantNbf || gotExp != tt.wantExp {
				t.Errorf("not yet valid = %v, expired = %v; want %v, %v", gotNbf, gotExp, tt.wantNbf, tt.wantExp)
			}
		})
	}
}
