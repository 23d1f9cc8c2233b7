package mint_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

const (
	accountSID = "AC15c1737bf14064d2278d616face3f17f"
	apiKeySID  = "SK21c17013f3face8fdc4e4623b0a9d2c1"
	secret     = "s3cr3t-api-key-value-for-tests"
)

var t0 = time.Unix(1_700_000_000, 0)

func creds() mint.Credentials {
	return mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret}
}

func mustMinter(tb testing.TB, c mint.Credentials) *mint.Minter {
	tb.Helper()
	m, err := mint.New(c, func() time.Time { return t0 })
	if err != nil {
		tb.Fatalf("mint.New: %v", err)
	}
	return m
}

// segments decodes a token's header and payload into generic maps, so the
// tests look at the JSON as Twilio would, not at our types.
func segments(tb testing.TB, raw string) (header, payload map[string]any) {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			tb.Fatalf("segment %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			tb.Fatalf("segment %d: %v", i, err)
		}
	}
	return header, payload
}

func jsonValue(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("bad expected JSON %s: %v", s, err)
	}
	return v
}

// TestMintGrantShapes checks each grant's JSON against the shapes Twilio
// documents (see the reference table): snake_case keys, empty and false
// fields omitted, identity inside grants.
func TestMintGrantShapes(t *testing.T) {
	tests := []struct {
		name   string
		grants token.Grants
		want   string // the whole "grants" claim
	}{
		{"video room", token.Grants{Video: &token.VideoGrant{Room: "My Room"}},
			`{"identity":"susan","video":{"room":"My Room"}}`},
		{"video any room", token.Grants{Video: &token.VideoGrant{}},
			`{"identity":"susan","video":{}}`},
		{"chat", token.Grants{Chat: &token.ChatGrant{ServiceSID: "IS" + strings.Repeat("a", 32), EndpointID: "app:susan:phone",
			DeploymentRoleSID: "RL" + strings.Repeat("b", 32), PushCredentialSID: "CR" + strings.Repeat("c", 32)}},
			`{"identity":"susan","chat":{"service_sid":"ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","endpoint_id":"app:susan:phone","deployment_role_sid":"RLbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","push_credential_sid":"CRcccccccccccccccccccccccccccccccc"}}`},
		{"chat service only", token.Grants{Chat: &token.ChatGrant{ServiceSID: "IS" + strings.Repeat("a", 32)}},
			`{"identity":"susan","chat":{"service_sid":"ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}`},
		{"ip messaging", token.Grants{IPMessaging: &token.ChatGrant{ServiceSID: "IS" + strings.Repeat("d", 32)}},
			`{"identity":"susan","ip_messaging":{"service_sid":"ISdddddddddddddddddddddddddddddddd"}}`},
		{"sync", token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS" + strings.Repeat("e", 32), EndpointID: "e1"}},
			`{"identity":"susan","data_sync":{"service_sid":"ISeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","endpoint_id":"e1"}}`},
		{"voice full", token.Grants{Voice: &token.VoiceGrant{
			Incoming:          &token.VoiceIncoming{Allow: true},
			Outgoing:          &token.VoiceOutgoing{ApplicationSID: "AP" + strings.Repeat("f", 32), Params: map[string]any{"to": "+15551234567"}},
			PushCredentialSID: "CR" + strings.Repeat("1", 32), EndpointID: "ep"}},
			`{"identity":"susan","voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"APffffffffffffffffffffffffffffffff","params":{"to":"+15551234567"}},"push_credential_sid":"CR11111111111111111111111111111111","endpoint_id":"ep"}}`},
		{"voice incoming false is omitted", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: false},
			Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP" + strings.Repeat("f", 32)}}},
			`{"identity":"susan","voice":{"outgoing":{"application_sid":"APffffffffffffffffffffffffffffffff"}}}`},
		{"task router", token.Grants{TaskRouter: &token.TaskRouterGrant{WorkspaceSID: "WS" + strings.Repeat("2", 32),
			WorkerSID: "WK" + strings.Repeat("3", 32), Role: "worker"}},
			`{"identity":"susan","task_router":{"workspace_sid":"WS22222222222222222222222222222222","worker_sid":"WK33333333333333333333333333333333","role":"worker"}}`},
		{"player", token.Grants{Player: map[string]any{"playbackGrant": map[string]any{"requestCredentials": nil}}},
			`{"identity":"susan","player":{"playbackGrant":{"requestCredentials":null}}}`},
		{"rtc", token.Grants{RTC: &token.RTCGrant{ConfigurationProfileSID: "CJ" + strings.Repeat("4", 32)}},
			`{"identity":"susan","rtc":{"configuration_profile_sid":"CJ44444444444444444444444444444444"}}`},
		{"several at once", token.Grants{Video: &token.VideoGrant{Room: "r"}, Sync: &token.SyncGrant{ServiceSID: "IS" + strings.Repeat("5", 32)}},
			`{"identity":"susan","video":{"room":"r"},"data_sync":{"service_sid":"IS55555555555555555555555555555555"}}`},
		{"identity from the caller wins", token.Grants{Identity: "mallory", Video: &token.VideoGrant{}},
			`{"identity":"susan","video":{}}`},
	}
	m := mustMinter(t, creds())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Mint("susan", tt.grants, time.Hour)
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			_, payload := segments(t, got.Token)
			if want := jsonValue(t, tt.want); !reflect.DeepEqual(payload["grants"], want) {
				g, _ := json.Marshal(payload["grants"])
				t.Errorf("grants = %s\nwant     %s", g, tt.want)
			}
			if _, ok := payload["identity"]; ok {
				t.Error("identity is a top-level claim; Twilio reads it from grants only")
			}
			if got.Claims.Grants.Identity != "susan" {
				t.Errorf("Minted.Claims identity = %q", got.Claims.Grants.Identity)
			}
		})
	}
}

func TestMintHeaderAndClaims(t *testing.T) {
	for _, region := range []string{"", "ie1"} {
		t.Run("region="+region, func(t *testing.T) {
			c := creds()
			c.Region = region
			got, err := mustMinter(t, c).Mint("susan", token.Grants{Video: &token.VideoGrant{Room: "My Room"}}, 90*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			header, payload := segments(t, got.Token)
			wantHeader := map[string]any{"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}
			if region != "" {
				wantHeader["twr"] = region
			}
			if !reflect.DeepEqual(header, wantHeader) {
				t.Errorf("header = %v, want %v", header, wantHeader)
			}
			now := float64(t0.Unix())
			want := map[string]any{
				"jti": apiKeySID + "-1700000000", "iss": apiKeySID, "sub": accountSID,
				"nbf": now, "exp": now + 90,
			}
			for k, v := range want {
				if payload[k] != v {
					t.Errorf("claim %s = %v, want %v", k, payload[k], v)
				}
			}
			for k := range payload {
				if _, ok := want[k]; !ok && k != "grants" {
					t.Errorf("unexpected claim %q", k)
				}
			}
			c2 := got.Claims
			if c2.JTI != want["jti"] || c2.Exp != t0.Unix()+90 || c2.Nbf != t0.Unix() || c2.TTL() != 90*time.Second {
				t.Errorf("Minted.Claims = %+v", c2)
			}
		})
	}
}

func TestMintRejects(t *testing.T) {
	video := token.Grants{Video: &token.VideoGrant{}}
	tests := []struct {
		name      string
		identity  string
		grants    token.Grants
		ttl       time.Duration
		wantField string
	}{
		{"ttl 0", "susan", video, 0, "ttl"},
		{"ttl -1", "susan", video, -time.Second, "ttl"},
		{"ttl 86401", "susan", video, 86401 * time.Second, "ttl"},
		{"ttl not whole seconds", "susan", video, 1500 * time.Millisecond, "ttl"},
		{"empty identity", "", video, time.Hour, "identity"},
		{"identity with a newline", "su\nsan", video, time.Hour, "identity"},
		{"identity too long", strings.Repeat("x", token.MaxIdentityLen+1), video, time.Hour, "identity"},
		{"chat service is not IS", "susan", token.Grants{Chat: &token.ChatGrant{ServiceSID: "ZS" + strings.Repeat("a", 32)}}, time.Hour, "grants.chat.service_sid"},
		{"sync service too short", "susan", token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS123"}}, time.Hour, "grants.data_sync.service_sid"},
		{"voice app not hex", "susan", token.Grants{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP" + strings.Repeat("z", 32)}}}, time.Hour, "grants.voice.outgoing.application_sid"},
		{"voice params without app", "susan", token.Grants{Voice: &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{Params: map[string]any{"a": 1}}}}, time.Hour, "grants.voice.outgoing.params"},
		{"workspace is a worker", "susan", token.Grants{TaskRouter: &token.TaskRouterGrant{WorkspaceSID: "WK" + strings.Repeat("2", 32)}}, time.Hour, "grants.task_router.workspace_sid"},
		{"unknown grant key", "susan", token.Grants{Video: &token.VideoGrant{}, Unknown: map[string][]byte{"fax": []byte(`{}`)}}, time.Hour, "grants.fax"},
	}
	m := mustMinter(t, creds())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Mint(tt.identity, tt.grants, tt.ttl)
			var fe *token.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Mint = %v, %v; want a *token.FieldError", got.Token, err)
			}
			if fe.Field != tt.wantField {
				t.Errorf("error names %q, want %q (%v)", fe.Field, tt.wantField, err)
			}
			if got.Token != "" {
				t.Error("a token came back with the error")
			}
		})
	}
}

func TestMintTTLLimitsAccepted(t *testing.T) {
	m := mustMinter(t, creds())
	for _, ttl := range []time.Duration{time.Second, mint.DefaultTTL, 86400 * time.Second} {
		got, err := m.Mint("susan", token.Grants{Video: &token.VideoGrant{}}, ttl)
		if err != nil {
			t.Fatalf("ttl %v: %v", ttl, err)
		}
		if got.Claims.Exp-got.Claims.Nbf != int64(ttl/time.Second) {
			t.Errorf("ttl %v: exp-nbf = %d", ttl, got.Claims.Exp-got.Claims.Nbf)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*mint.Credentials)
		wantField string
	}{
		{"account SID prefix", func(c *mint.Credentials) { c.AccountSID = "SK" + c.AccountSID[2:] }, "account SID"},
		{"account SID length", func(c *mint.Credentials) { c.AccountSID += "0" }, "account SID"},
		{"API key SID is an account", func(c *mint.Credentials) { c.APIKeySID = accountSID }, "API key SID"},
		{"empty secret", func(c *mint.Credentials) { c.APIKeySecret = "" }, "API key secret"},
		{"region", func(c *mint.Credentials) { c.Region = "US-1" }, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := creds()
			tt.edit(&c)
			_, err := mint.New(c, nil)
			var fe *token.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Fatalf("New = %v; want a field error naming %q", err, tt.wantField)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

// sign builds a token by hand with golang-jwt, to feed Verify tokens that
// Mint would never produce.
func sign(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["cty"] = token.ContentTypeFPA
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	m := mustMinter(t, creds())
	good, err := m.Mint("susan", token.Grants{Video: &token.VideoGrant{Room: "My Room"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other := creds()
	other.APIKeySecret = "another-secret"
	forged, err := mustMinter(t, other).Mint("susan", token.Grants{Video: &token.VideoGrant{}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good.Token, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x","grants":{"identity":"mallory","video":{}},"iss":"` + apiKeySID + `","sub":"` + accountSID + `","exp":1}`))
	base := jwt.MapClaims{"iss": apiKeySID, "sub": accountSID, "exp": t0.Unix() + 60, "grants": map[string]any{"identity": "x"}}
	otherIssuer := jwt.MapClaims{"iss": "SK" + strings.Repeat("0", 32), "sub": accountSID, "exp": t0.Unix() + 60}
	tests := []struct {
		name    string
		raw     string
		wantErr error
	}{
		{"minted here", good.Token, nil},
		{"minted here, pasted with Bearer", "Bearer " + good.Token + "\n", nil},
		{"signed with another secret", forged.Token, mint.ErrBadSignature},
		{"payload changed after signing", parts[0] + "." + tamperedPayload + "." + parts[2], mint.ErrBadSignature},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, []byte(secret), base), mint.ErrWrongAlg},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, base) + "AA", mint.ErrWrongAlg},
		{"another API key's issuer", sign(t, jwt.SigningMethodHS256, []byte(secret), otherIssuer), mint.ErrWrongIssuer},
		{"not a JWT", "hello", token.ErrNotJWT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := m.Verify(tt.raw)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if tok.Claims.Identity() != "susan" || tok.Claims.JTI != good.Claims.JTI {
					t.Errorf("claims = %+v", tok.Claims)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

// TestVerifyIgnoresExpiry: an expired genuine token is still genuine;
// whether it is expired is the caller's question.
func TestVerifyIgnoresExpiry(t *testing.T) {
	old, err := mustMinter(t, creds()).Mint("susan", token.Grants{Video: &token.VideoGrant{}}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	later, err := mint.New(creds(), func() time.Time { return t0.Add(48 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := later.Verify(old.Token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !tok.Claims.Expired(t0.Add(48 * time.Hour)) {
		t.Error("token should read as expired")
	}
}
