package session

import (
	"net/http"
	"net/textproto"
	"strings"
)

// cookieValue finds the session cookie in h as (*http.Request).Cookie
// does, the first valid one in the order sent, without building every
// cookie of the header: Request.Cookie allocated a slice and a Cookie per
// renewal for a value that is then only compared or decrypted.
// cookie_test.go holds the two to the same answers. Unlike net/http it
// does not give up on a header of more than 3,000 cookies (its GODEBUG
// httpcookiemaxnum limit on parsing work); this scan allocates nothing
// and stops at the session cookie.
func cookieValue(h http.Header) (string, bool) {
	for _, line := range h["Cookie"] {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			name, value, _ := strings.Cut(part, "=")
			if textproto.TrimString(name) != CookieName {
				continue
			}
			if value, ok := cookieValueOf(value); ok {
				return value, true
			}
		}
	}
	return "", false
}

// cookieValueOf strips a cookie value's double quotes and checks its bytes
// as net/http does.
func cookieValueOf(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return "", false
		}
	}
	return raw, true
}
