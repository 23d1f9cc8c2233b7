package token_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// tutorialToken is the sample token of the tutorial the project started from
// (docs: reference/twilio-access-token.md). Its secret is unknown.
const tutorialToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0." +
	"eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDciLCJncmFudHMiOnsidmlkZW8iOnsicm9vbSI6Ik15IFJvb20ifSwiaWRlbnRpdHkiOiJzdXNhbiJ9LCJpc3MiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxIiwiZXhwIjoxNjEwMzgzMzQ3LCJuYmYiOjE2MTAzNzk3NDcsInN1YiI6IkFDMTVjMTczN2JmMTQwNjRkMjI3OGQ2MTZmYWNlM2YxN2YifQ." +
	"6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

const (
	goodHeader  = `{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`
	goodPayload = `{"jti":"SK00000000000000000000000000000000-1700000000","grants":{"identity":"alice","video":{"room":"r"}},"iss":"SK00000000000000000000000000000000","exp":1700003600,"nbf":1700000000,"sub":"AC00000000000000000000000000000000"}`
)

var b64 = base64.RawURLEncoding.EncodeToString

// jwt joins header and payload JSON and a signature into a token.
func jwt(header, payload, sig string) string {
	return b64([]byte(header)) + "." + b64([]byte(payload)) + "." + sig
}

func TestDecodeTutorialToken(t *testing.T) {
	tok, err := token.Decode(tutorialToken)
	if err != nil {
		t.Fatalf("Decode(tutorial token): %v", err)
	}
	wantHeader := token.Header{Typ: "JWT", Alg: "HS256", Cty: "twilio-fpa;v=1"}
	if tok.Header != wantHeader {
		t.Errorf("header = %+v, want %+v", tok.Header, wantHeader)
	}
	wantClaims := token.Claims{
		JTI:    "SK21c17013f3face8fdc4e4623b0a9d2c1-1610379747",
		Grants: token.Grants{Identity: "susan", Video: &token.VideoGrant{Room: "My Room"}},
		Iss:    "SK21c17013f3face8fdc4e4623b0a9d2c1",
		Exp:    1610383347,
		Nbf:    1610379747,
		Sub:    "AC15c1737bf14064d2278d616face3f17f",
	}
	if !reflect.DeepEqual(tok.Claims, wantClaims) {
		t.Errorf("claims = %+v, want %+v", tok.Claims, wantClaims)
	}
	if got, want := string(tok.HeaderJSON), goodHeader; got != want {
		t.Errorf("HeaderJSON = %s, want %s", got, want)
	}
	const wantPayload = `{"jti":"SK21c17013f3face8fdc4e4623b0a9d2c1-1610379747","grants":{"video":{"room":"My Room"},"identity":"susan"},"iss":"SK21c17013f3face8fdc4e4623b0a9d2c1","exp":1610383347,"nbf":1610379747,"sub":"AC15c1737bf14064d2278d616face3f17f"}`
	if got := string(tok.PayloadJSON); got != wantPayload {
		t.Errorf("PayloadJSON = %s, want %s", got, wantPayload)
	}
	if len(tok.Signature) != 32 {
		t.Errorf("signature is %d bytes, want 32 (HMAC-SHA256)", len(tok.Signature))
	}
	if tok.Raw != tutorialToken {
		t.Errorf("Raw differs from the input")
	}
	if got := tok.Claims.TTL(); got != time.Hour {
		t.Errorf("TTL = %v, want 1h", got)
	}
	if got := tok.Claims.Grants.Keys(); !reflect.DeepEqual(got, []string{"video"}) {
		t.Errorf("Keys = %v, want [video]", got)
	}
}

func TestDecodeAcceptsPastedForms(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"surrounding white space", " \n\t" + tutorialToken + "\r\n "},
		{"Bearer prefix", "Bearer " + tutorialToken},
		{"lower-case bearer prefix", "bearer  " + tutorialToken},
		{"padded segments", func() string {
			p := strings.Split(tutorialToken, ".")
			return p[0] + "==." + p[1] + "=." + p[2] + "="
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := token.Decode(tt.raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if tok.Claims.Identity() != "susan" {
				t.Errorf("identity = %q, want susan", tok.Claims.Identity())
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	sig := "c2lnbmF0dXJl"
	tests := []struct {
		name     string
		raw      string
		want     error
		contains string // part of the message a person needs
	}{
		{"empty", "", token.ErrNotJWT, "empty"},
		{"only white space", "  \n ", token.ErrNotJWT, "empty"},
		{"bearer and nothing", "Bearer ", token.ErrNotJWT, "empty"},
		{"one segment", "abc", token.ErrNotJWT, "no dot"},
		{"two segments", "abc.def", token.ErrNotJWT, "this has 2"},
		{"four segments", "a.b.c.d", token.ErrNotJWT, "this has 4"},
		{"five segments (JWE)", "a.b.c.d.e", token.ErrNotJWT, "JWE"},
		{"empty header segment", "." + b64([]byte(goodPayload)) + "." + sig, token.ErrBadHeader, "empty"},
		{"bad base64 in header", "ey!J." + b64([]byte(goodPayload)) + "." + sig, token.ErrBadHeader, "offset 2"},
		{"standard base64 in header", "ab+c." + b64([]byte(goodPayload)) + "." + sig, token.ErrBadHeader, "standard base64"},
		{"header not JSON", jwt("typ JWT", goodPayload, sig), token.ErrBadHeader, "not valid JSON"},
		{"header an array", jwt(`["JWT"]`, goodPayload, sig), token.ErrBadHeader, "not a JSON object"},
		{"header a string", jwt(`"JWT"`, goodPayload, sig), token.ErrBadHeader, "not a JSON object"},
		{"header alg a number", jwt(`{"alg":256}`, goodPayload, sig), token.ErrBadHeader, `"alg" must be a string, not the number 256`},
		{"empty payload segment", b64([]byte(goodHeader)) + ".." + sig, token.ErrBadPayload, "empty"},
		{"bad base64 in payload", b64([]byte(goodHeader)) + ".e*yJ." + sig, token.ErrBadPayload, "offset 1"},
		{"payload not JSON", jwt(goodHeader, `{"exp":`, sig), token.ErrBadPayload, "not valid JSON"},
		{"payload null", jwt(goodHeader, `null`, sig), token.ErrBadPayload, "not a JSON object"},
		// A key given twice is refused: Twilio and this page could each
		// read a different one of its values.
		{"exp given twice", jwt(goodHeader, `{"exp":1,"iss":"SK","exp":99999999999}`, sig), token.ErrBadPayload, `"exp" is given more than once`},
		{"grant given twice", jwt(goodHeader, `{"exp":1,"grants":{"video":{},"video":{"room":"x"}}}`, sig), token.ErrBadPayload, `"grants.video" is given more than once`},
		{"room given twice", jwt(goodHeader, `{"exp":1,"grants":{"video":{"room":"a","room":"b"}}}`, sig), token.ErrBadPayload, `"grants.video.room" is given more than once`},
		{"alg given twice", jwt(`{"alg":"none","alg":"HS256"}`, goodPayload, sig), token.ErrBadHeader, `"alg" is given more than once`},
		{"payload an array", jwt(goodHeader, `[1,2]`, sig), token.ErrBadPayload, "not a JSON object"},
		{"exp as string", jwt(goodHeader, `{"exp":"1700003600"}`, sig), token.ErrBadPayload, `"exp" must be a whole number, not a string`},
		{"exp fractional", jwt(goodHeader, `{"exp":1700003600.5}`, sig), token.ErrBadPayload, `"exp" must be a whole number, not the number 1700003600.5`},
		{"nbf as bool", jwt(goodHeader, `{"nbf":true}`, sig), token.ErrBadPayload, `"nbf" must be a whole number, not a boolean`},
		{"iss as number", jwt(goodHeader, `{"iss":1}`, sig), token.ErrBadPayload, `"iss" must be a string`},
		{"grants an array", jwt(goodHeader, `{"grants":[]}`, sig), token.ErrBadPayload, `"grants" must be an object of grants, not an array`},
		{"grant a string", jwt(goodHeader, `{"grants":{"video":"My Room"}}`, sig), token.ErrBadPayload, `"grants.video" must be an object, not a string`},
		{"nested grant field wrong type", jwt(goodHeader, `{"grants":{"voice":{"outgoing":{"application_sid":5}}}}`, sig), token.ErrBadPayload, `"grants.voice.outgoing.application_sid" must be a string`},
		{"identity a number", jwt(goodHeader, `{"grants":{"identity":42}}`, sig), token.ErrBadPayload, `"grants.identity" must be a string, not the number 42`},
		{"empty signature", jwt(goodHeader, goodPayload, ""), token.ErrBadSig, "unsigned"},
		{"bad base64 in signature", jwt(goodHeader, goodPayload, "si~g"), token.ErrBadSig, "offset 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := token.Decode(tt.raw)
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tt.raw, tok)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			for _, other := range []error{token.ErrNotJWT, token.ErrBadHeader, token.ErrBadPayload, token.ErrBadSig} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %q also wraps %q", err, other)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			var de *token.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
		})
	}
}

// A header problem is the earlier mistake and is reported even when the
// signature is broken too.
func TestDecodeReportsHeaderBeforeSignature(t *testing.T) {
	_, err := token.Decode(jwt(`[]`, goodPayload, ""))
	if !errors.Is(err, token.ErrBadHeader) {
		t.Fatalf("err = %v, want ErrBadHeader", err)
	}
}

func TestDecodeSegmentsKeepsHeaderAndPayloadOnBadSignature(t *testing.T) {
	h, p, s, err := token.DecodeSegments(jwt(goodHeader, goodPayload, ""))
	if !errors.Is(err, token.ErrBadSig) {
		t.Fatalf("err = %v, want ErrBadSig", err)
	}
	if string(h) != goodHeader || string(p) != goodPayload || s != nil {
		t.Errorf("segments = %q, %q, %q; want the header and payload and no signature", h, p, s)
	}
}

// encoding/json matches keys case-insensitively; Twilio does not. A key
// spelled differently must not fill a claim, a header field or a grant.
func TestDecodeReadsKeysExactly(t *testing.T) {
	payload := `{"EXP":5,"Iss":"SK00000000000000000000000000000000","Grants":{"video":{}},` +
		`"grants":{"Video":{"room":"a"},"video":{"ROOM":"b"},"IDENTITY":"x"}}`
	tok, err := token.Decode(jwt(`{"ALG":"none","alg":"HS256"}`, payload, "c2ln"))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if tok.Header.Alg != "HS256" {
		t.Errorf("alg = %q, want HS256 (ALG is another key)", tok.Header.Alg)
	}
	if tok.Claims.Exp != 0 || tok.Claims.Iss != "" {
		t.Errorf("exp = %d, iss = %q: mis-spelled claims were read", tok.Claims.Exp, tok.Claims.Iss)
	}
	g := tok.Claims.Grants
	if g.Video == nil || g.Video.Room != "" {
		t.Errorf("video = %+v, want present with no room", g.Video)
	}
	if g.Identity != "" {
		t.Errorf("identity = %q, want empty (IDENTITY is another key)", g.Identity)
	}
	if got, want := g.Keys(), []string{"video", "IDENTITY", "Video"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

func TestClaimsTime(t *testing.T) {
	now := time.Unix(1_700_000_000, 0) // fixed clock
	tests := []struct {
		name          string
		c             token.Claims
		wantIssued    int64 // unix seconds; 0 = unknown
		wantTTL       time.Duration
		wantRemaining time.Duration
		wantExpired   bool
		wantNotYet    bool
	}{
		{"fresh, nbf known", token.Claims{Nbf: 1_700_000_000, Exp: 1_700_003_600}, 1_700_000_000, time.Hour, time.Hour, false, false},
		{"iat when no nbf", token.Claims{Iat: 1_699_999_000, Exp: 1_700_000_600}, 1_699_999_000, 1600 * time.Second, 600 * time.Second, false, false},
		{"jti time when no nbf or iat", token.Claims{JTI: "SK00000000000000000000000000000000-1699999940", Exp: 1_700_000_060}, 1_699_999_940, 2 * time.Minute, time.Minute, false, false},
		{"unknown issue time", token.Claims{JTI: "abc", Exp: 1_700_000_060}, 0, 0, time.Minute, false, false},
		{"jti with a hex suffix is not a time", token.Claims{JTI: "SK-0x10", Exp: 1_700_000_060}, 0, 0, time.Minute, false, false},
		{"jti with a signed suffix is not a time", token.Claims{JTI: "SK-+1699999940", Exp: 1_700_000_060}, 0, 0, time.Minute, false, false},
		{"jti with trailing letters is not a time", token.Claims{JTI: "SK-1699999940abc", Exp: 1_700_000_060}, 0, 0, time.Minute, false, false},
		{"expired exactly at exp", token.Claims{Nbf: 1_699_996_400, Exp: 1_700_000_000}, 1_699_996_400, time.Hour, 0, true, false},
		{"expired a minute ago", token.Claims{Nbf: 1_699_996_340, Exp: 1_699_999_940}, 1_699_996_340, time.Hour, -time.Minute, true, false},
		{"one second before exp", token.Claims{Nbf: 1_699_996_401, Exp: 1_700_000_001}, 1_699_996_401, time.Hour, time.Second, false, false},
		{"not yet valid", token.Claims{Nbf: 1_700_000_010, Exp: 1_700_003_610}, 1_700_000_010, time.Hour, time.Hour + 10*time.Second, false, true},
		{"valid exactly at nbf", token.Claims{Nbf: 1_700_000_000, Exp: 1_700_000_001}, 1_700_000_000, time.Second, time.Second, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issued := tt.c.IssuedAt()
			if tt.wantIssued == 0 {
				if !issued.IsZero() {
					t.Errorf("IssuedAt = %v, want zero", issued)
				}
			} else if issued.Unix() != tt.wantIssued {
				t.Errorf("IssuedAt = %d, want %d", issued.Unix(), tt.wantIssued)
			}
			if got := tt.c.TTL(); got != tt.wantTTL {
				t.Errorf("TTL = %v, want %v", got, tt.wantTTL)
			}
			if got := tt.c.Remaining(now); got != tt.wantRemaining {
				t.Errorf("Remaining = %v, want %v", got, tt.wantRemaining)
			}
			if got := tt.c.Expired(now); got != tt.wantExpired {
				t.Errorf("Expired = %v, want %v", got, tt.wantExpired)
			}
			if got := tt.c.NotYetValid(now); got != tt.wantNotYet {
				t.Errorf("NotYetValid = %v, want %v", got, tt.wantNotYet)
			}
			if got := tt.c.ExpiresAt(); got.Unix() != tt.c.Exp {
				t.Errorf("ExpiresAt = %d, want %d", got.Unix(), tt.c.Exp)
			}
		})
	}
}

func TestCheckTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  int64
		ok   bool
	}{
		{"zero", 0, false},
		{"negative", -1, false},
		{"minimum", token.MinTTL, true},
		{"default", token.DefaultTTL, true},
		{"maximum", token.MaxTTL, true},
		{"one over the maximum", token.MaxTTL + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := token.CheckTTL("ttl", tt.ttl)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckTTL(%d) = %v, want nil", tt.ttl, err)
				}
				return
			}
			if !errors.Is(err, token.ErrOutOfRange) || !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("CheckTTL(%d) = %v, want ErrOutOfRange", tt.ttl, err)
			}
			for _, want := range []string{"ttl", "86400", "1 to"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestCheckSID(t *testing.T) {
	tests := []struct {
		name, prefix, sid string
		ok                bool
		contains          string
	}{
		{"account", "AC", "AC15c1737bf14064d2278d616face3f17f", true, ""},
		{"upper-case hex", "SK", "SK21C17013F3FACE8FDC4E4623B0A9D2C1", true, ""},
		{"empty", "AC", "", false, "an empty value"},
		{"wrong prefix", "SK", "AC15c1737bf14064d2278d616face3f17f", false, `"AC15c1737bf14064d2278d616face3f17f"`},
		{"lower-case prefix", "AC", "ac15c1737bf14064d2278d616face3f17f", false, "AC followed by 32 hex digits"},
		{"too short", "AP", "AP123", false, "34 characters"},
		{"too long", "AP", "AP15c1737bf14064d2278d616face3f17f0", false, "34 characters"},
		{"not hex", "IS", "ISzzc1737bf14064d2278d616face3f17f", false, "hex"},
		{"long value truncated in the message", "AC", strings.Repeat("x", 100), false, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := token.CheckSID("field.name", tt.prefix, tt.sid)
			if got := token.ValidSID(tt.prefix, tt.sid); got != tt.ok {
				t.Errorf("ValidSID = %v, want %v", got, tt.ok)
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckSID = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, token.ErrBadSID) {
				t.Fatalf("CheckSID = %v, want ErrBadSID", err)
			}
			if !strings.HasPrefix(err.Error(), "field.name ") || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q should name field.name and say %q", err, tt.contains)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error is %d bytes long: the value should be truncated", len(err.Error()))
			}
		})
	}
}

func TestCheckIdentity(t *testing.T) {
	tests := []struct {
		name, id string
		contains string // "" means valid
	}{
		{"plain", "alice", ""},
		{"email", "alice@example.com", ""},
		{"unicode at the limit", strings.Repeat("é", token.MaxIdentityLen), ""},
		{"empty", "", "must not be empty"},
		{"too long", strings.Repeat("a", token.MaxIdentityLen+1), "at most 256 characters, got 257"},
		{"invalid UTF-8", "al\xffce", "UTF-8"},
		{"newline", "alice\nbob", "control characters"},
		{"NUL", "a\x00", "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := token.CheckIdentity("identity", tt.id)
			if tt.contains == "" {
				if err != nil {
					t.Fatalf("CheckIdentity = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, token.ErrBadIdentity) || !strings.Contains(err.Error(), tt.contains) || !strings.HasPrefix(err.Error(), "identity ") {
				t.Errorf("CheckIdentity = %v, want ErrBadIdentity naming identity and saying %q", err, tt.contains)
			}
		})
	}
}

func TestVoiceSafeIdentity(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"alice", true}, {"Alice_42", true}, {"_", true},
		{"", false}, {"alice bob", false}, {"alice@example.com", false}, {"al-ice", false}, {"élise", false}, {"a.b", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := token.VoiceSafeIdentity(tt.id); got != tt.want {
				t.Errorf("VoiceSafeIdentity(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

// Claims must keep their plain JSON shape: server/mint embeds them to sign.
func TestClaimsMarshalShape(t *testing.T) {
	c := token.Claims{JTI: "j", Iss: "i", Sub: "s", Exp: 2, Nbf: 1, Grants: token.Grants{Identity: "a"}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"jti":"j","grants":{"identity":"a"},"iss":"i","exp":2,"nbf":1,"sub":"s"}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back token.Claims
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, c)
	}
}
