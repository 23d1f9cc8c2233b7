package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzTokenResponseJSON holds the hand-written token answer to
// encoding/json's Encoder, which wrote it before.
func FuzzTokenResponseJSON(f *testing.F) {
	f.Add("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.sig", "alice", "SK00000000000000000000000000000000-1700000000", int64(1700003600), int64(3600))
	f.Add(`"quoted" \ <b>&amp;`, "é😀\u2028\u2029", "\x00\x1f\x7f", int64(-1), int64(0))
	f.Add("\xff\xfe bad utf-8", "", "", int64(1<<63-1), int64(-1<<63))
	f.Fuzz(func(t *testing.T, tok, identity, jti string, exp, ttl int64) {
		r := TokenResponse{Token: tok, Identity: identity, JTI: jti, ExpiresAt: exp, TTL: ttl}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON([]byte("x")); string(got) != "x"+want.String() {
			t.Fatalf("appendJSON = %q, encoding/json %q", got[1:], want.String())
		}
	})
}
