package token

import (
	"errors"
	"fmt"
	"testing"
)

// The messages below were written with fmt before the package dropped it
// to keep the page's program small; these tests hold the hand-written
// forms to fmt's.

func TestCodePointMatchesFmt(t *testing.T) {
	for _, r := range []rune{0, 0x1f, 0x7f, 0x9f, 0xad, 0x2028, 0xfeff, 0xffff, 0x10000, 0xe0001, 0x10ffff} {
		if got, want := codePoint(r), fmt.Sprintf("%U", r); got != want {
			t.Errorf("codePoint(%#x) = %s, want %s", r, got, want)
		}
	}
}

func TestErrorKindsMatchFmt(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind string
	}{
		{ErrUnknownField, "unknown field"}, {ErrWrongType, "wrong type"}, {ErrBadSID, "malformed SID"},
		{ErrBadIdentity, "bad identity"}, {ErrOutOfRange, "out of range"}, {ErrMissingField, "missing field"},
	} {
		want := fmt.Errorf("%w: %s", ErrInvalid, tt.kind)
		if tt.err.Error() != want.Error() || !errors.Is(tt.err, ErrInvalid) {
			t.Errorf("%v: want %q wrapping ErrInvalid", tt.err, want)
		}
	}
}

func TestDecodeSegmentMessagesMatchFmt(t *testing.T) {
	for _, tt := range []struct {
		seg  string
		want string
	}{
		{"ab+c", fmt.Sprintf("not base64url: %q at offset %d is standard base64 (JWTs use - and _ instead of + and /)", "ab+c"[2], 2)},
		{"/abc", fmt.Sprintf("not base64url: %q at offset %d is standard base64 (JWTs use - and _ instead of + and /)", "/abc"[0], 0)},
		{"ab!c", fmt.Sprintf("not base64url (bad character at offset %d)", 2)},
	} {
		if _, err := decodeSegment(tt.seg); err == nil || err.Error() != tt.want {
			t.Errorf("decodeSegment(%q) = %v, want %q", tt.seg, err, tt.want)
		}
	}
}
