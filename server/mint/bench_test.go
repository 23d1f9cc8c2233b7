package mint_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	twjwt "github.com/twilio/twilio-go/client/jwt"

	"github.com/tokenlab/tokenlab/shared/token"
)

// The benchmarks below mint the same token three ways: an identity and one
// video grant, HS256, Twilio's header. make bench compares their medians;
// the two baselines are what a Go service would write without tokenlab.

func BenchmarkMint(b *testing.B) {
	m := mustMinter(b, creds())
	g := token.Grants{Video: &token.VideoGrant{Room: "My Room"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint("alice", g, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMintMapClaims is golang-jwt used the common way: a MapClaims
// literal per token.
func BenchmarkMintMapClaims(b *testing.B) {
	key := []byte(secret)
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now().Unix()
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"jti": apiKeySID + "-" + itoa(now),
			"grants": map[string]any{
				"identity": "alice",
				"video":    map[string]any{"room": "My Room"},
			},
			"iss": apiKeySID,
			"sub": accountSID,
			"nbf": now,
			"exp": now + 3600,
		})
		t.Header["typ"] = "JWT"
		t.Header["cty"] = "twilio-fpa;v=1"
		if _, err := t.SignedString(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMintTwilioGo is Twilio's own Go helper library.
func BenchmarkMintTwilioGo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		at := twjwt.CreateAccessToken(twjwt.AccessTokenParams{
			AccountSid: accountSID, SigningKeySid: apiKeySID, Secret: secret,
			Identity: "alice", Ttl: 3600,
		})
		at.AddGrant(&twjwt.VideoGrant{Room: "My Room"})
		if _, err := at.ToJwt(); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(n int64) string {
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
