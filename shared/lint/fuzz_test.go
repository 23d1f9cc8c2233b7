package lint_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// codes are the Twilio error codes lint may answer with.
var codes = map[int]bool{
	lint.CodeInvalidToken: true, lint.CodeBadHeader: true, lint.CodeBadIssuer: true,
	lint.CodeExpired: true, lint.CodeNotYetValid: true, lint.CodeBadGrants: true,
	lint.CodeBadSignature: true, lint.CodeTTLTooLong: true, lint.CodeNotAJWT: true,
	lint.CodeVoiceTTLTooLong: true, lint.CodeIdentityTooLong: true, lint.CodeEndpointIDTooLong: true,
}

// FuzzCheck checks that Check never panics on any text at any time, that
// every finding carries a known Twilio code, a severity, a field and a
// bounded message, that errors come first, that the result depends only on
// its input, and that whatever token.Decode cannot even split or decode
// from base64 is an error.
func FuzzCheck(f *testing.F) {
	f.Add(tutorialToken, int64(1_610_380_000))
	f.Add(tutorialToken, int64(1_700_000_000))
	f.Add(build(f), now.Unix())
	f.Add(build(f, setH("alg", "HS384"), setH("twr", "de1"), set("iss", acctSID), set("sub", keySID), set("exp", int64(1_700_003_600_000))), now.Unix())
	f.Add(build(f, grants(`{"identity":" a@b","sync":{},"voice":{"incoming":{"allow":false},"outgoing":{"params":{"a":1}}},"chat":{"service_sid":"ZS1"}}`), life(-10, 90000)), now.Unix())
	f.Add(build(f, del("nbf"), set("jti", "x"), set("nbf", "soon"), set("iat", -1), set("EXP", 1), set("identity", "a")), int64(-1<<63))
	f.Add("Bearer a.b.", int64(0))
	f.Add(`{"token":"x"}`, int64(1<<62))
	f.Fuzz(func(t *testing.T, raw string, unix int64) {
		at := time.Unix(unix, 0)
		got := lint.Check(raw, at)
		if got == nil {
			t.Fatal("Check returned nil")
		}
		last := 0
		rank := map[lint.Severity]int{lint.SeverityError: 0, lint.SeverityWarning: 1, lint.SeverityInfo: 2}
		for _, f := range got {
			r, ok := rank[f.Severity]
			if !ok || !codes[f.Code] || f.Field == "" || f.Message == "" {
				t.Fatalf("finding %#v lacks a known code, severity, field or message", f)
			}
			if r < last {
				t.Fatalf("finding %v comes after a less serious one", f)
			}
			last = r
			if len(f.Message) > 1000 || len(f.Field) > 200 {
				t.Fatalf("finding %s %.200s: field of %d bytes, message of %d", f.Severity, f.Field, len(f.Field), len(f.Message))
			}
			// One finding is one line of the CLI's output.
			if strings.ContainsAny(f.Field+f.Message, "\n\r") {
				t.Fatalf("finding %q spans lines", f)
			}
		}
		if again := lint.Check(raw, at); !reflect.DeepEqual(again, got) {
			t.Fatalf("Check is not deterministic:\n %v\n %v", got, again)
		}
		if _, _, _, err := token.DecodeSegments(raw); err != nil && !errors.Is(err, token.ErrBadSig) && !lint.HasErrors(got) {
			t.Fatalf("DecodeSegments fails (%v) but lint reports no error: %v", err, got)
		}
		if _, err := token.Decode(raw); err == nil {
			for _, f := range got {
				if f.Code == lint.CodeNotAJWT {
					t.Fatalf("Decode accepts the token but lint says it is not one: %v", f)
				}
			}
		}
	})
}
