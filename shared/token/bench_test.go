package token

import (
	"encoding/json"
	"testing"
)

// The benchmarks measure decoding and marshalling a token like the ones
// minted.

const benchToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0." +
	"eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDciLCJncmFudHMiOnsidmlkZW8iOnsicm9vbSI6Ik15IFJvb20ifSwiaWRlbnRpdHkiOiJzdXNhbiJ9LCJpc3MiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxIiwiZXhwIjoxNjEwMzgzMzQ3LCJuYmYiOjE2MTAzNzk3NDcsInN1YiI6IkFDMTVjMTczN2JmMTQwNjRkMjI3OGQ2MTZmYWNlM2YxN2YifQ." +
	"6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(benchToken); err != nil {
			b.Fatal(err)
		}
	}
}

// benchClaims carry the grants that send minting through golang-jwt,
// which calls json.Marshal on them: voice params and player, written by
// Grants' MarshalJSON.
var benchClaims = Claims{
	JTI: "SK00000000000000000000000000000000-1700000000", Iss: "SK00000000000000000000000000000000",
	Sub: "AC00000000000000000000000000000000", Exp: 1700003600, Nbf: 1700000000,
	Grants: Grants{
		Identity: "alice", Video: &VideoGrant{Room: "My Room"},
		Voice: &VoiceGrant{Incoming: &VoiceIncoming{Allow: true}, Outgoing: &VoiceOutgoing{
			ApplicationSID: "AP00000000000000000000000000000004", Params: map[string]any{"to": "+15551234567", "n": 2.0},
		}},
		Player: map[string]any{"playbackGrant": map[string]any{"requestCredentials": nil, "expiration": 1.7e9}},
	},
}

func BenchmarkMarshalClaims(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(benchClaims); err != nil {
			b.Fatal(err)
		}
	}
}
