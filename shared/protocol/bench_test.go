package protocol_test

import (
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// benchToken stands for a minted token: a video grant and an identity give
// a JWT of about this length.
var benchToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0." +
	strings.Repeat("eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDci", 5) +
	".6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

// benchMessages are what the hub sends most: the renewal pushed to every
// tab of a session, the expiry warning, and an error answer.
var benchMessages = []struct {
	name string
	m    protocol.Message
}{
	{"token", protocol.Message{Type: protocol.TypeToken, ID: "r12", ServerTimeMS: 1795765133000, Token: benchToken,
		JTI: "SK21c17013f3face8fdc4e4623b0a9d2c1-1795765133", Exp: 1795765733, Identity: "alice", LeadMS: 60000, Reason: "renewed"}},
	{"expiring", protocol.Message{Type: protocol.TypeExpiring, ServerTimeMS: 1795765673000,
		JTI: "SK21c17013f3face8fdc4e4623b0a9d2c1-1795765133", Exp: 1795765733, LeadMS: 60000}},
	{"error", protocol.Message{Type: protocol.TypeError, ID: "r13", ServerTimeMS: 1795765135000,
		Code: protocol.ErrCodeRateLimited, Text: "too many messages: slow down & retry <later>"}},
}

func BenchmarkEncode(b *testing.B) { benchEncode(b, protocol.Encode) }
func BenchmarkDecode(b *testing.B) { benchDecode(b, protocol.Decode) }

// The first implementation, on encoding/json, measured in the same run
// as a baseline.
func BenchmarkOracleEncode(b *testing.B) { benchEncode(b, oracleEncode) }
func BenchmarkOracleDecode(b *testing.B) { benchDecode(b, oracleDecode) }

func benchEncode(b *testing.B, encode func(protocol.Message) []byte) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(encode(bm.m))))
			b.ReportAllocs()
			for b.Loop() {
				encode(bm.m)
			}
		})
	}
}

func benchDecode(b *testing.B, decode func([]byte) (protocol.Message, error)) {
	frames := []struct{ name, data string }{
		// What clients send.
		{"renew", `{"type":"renew","id":"r12"}`},
		{"ping", `{"type":"ping","id":"p7"}`},
	}
	// What the page reads.
	for _, bm := range benchMessages {
		frames = append(frames, struct{ name, data string }{bm.name, string(protocol.Encode(bm.m))})
	}
	for _, f := range frames {
		b.Run(f.name, func(b *testing.B) {
			data := []byte(f.data)
			if _, err := decode(data); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				decode(data)
			}
		})
	}
}
