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

// TestCheckIdentityRefusesInvisible: a name that looks like another, by an
// invisible or reordering character, is refused with the code point named;
// both Unicode forms of a visible letter pass (the server normalizes).
func TestCheckIdentityRefusesInvisible(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{"zero-width space", "ali\u200bce", "U+200B"},
		{"zero-width joiner", "al\u200dice", "U+200D"},
		{"right-to-left override", "\u202eecila", "U+202E"},
		{"left-to-right isolate", "alice\u2066", "U+2066"},
		{"byte order mark", "\ufeffalice", "U+FEFF"},
		{"soft hyphen", "ali\u00adce", "U+00AD"},
		{"line separator", "alice\u2028", "U+2028"},
		{"word joiner", "al\u2060ice", "U+2060"},
		{"tag character", "alice\U000E0041", "U+E0041"},
		{"precomposed é", "jos\u00e9", ""},
		{"decomposed é", "jose\u0301", ""},
		{"emoji", "ali🙂", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIdentity("username", tt.id)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckIdentity(%q) = %v, want nil", tt.id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "username") {
				t.Fatalf("CheckIdentity(%q) = %v, want an error naming username and %s", tt.id, err, tt.want)
			}
		})
	}
}
