package token

import (
	"strings"
	"testing"
)

// FuzzCheckIdentityFastPath: the one-pass ASCII check accepts only
// identities the full, rune-by-rune check accepts.
func FuzzCheckIdentityFastPath(f *testing.F) {
	for _, s := range []string{"", "alice", "a b", "tab\there", "del\x7f", "é", strings.Repeat("x", MaxIdentityLen), strings.Repeat("x", MaxIdentityLen+1), "\x00", "~!@#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if plainASCIIIdentity(id) {
			if err := checkIdentityRunes("identity", id); err != nil {
				t.Fatalf("the fast path accepts %q, the full check says %v", id, err)
			}
		}
		if (CheckIdentity("identity", id) == nil) != (checkIdentityRunes("identity", id) == nil) {
			t.Fatalf("CheckIdentity and the full check disagree on %q", id)
		}
	})
}
