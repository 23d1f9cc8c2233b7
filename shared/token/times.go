package token

import (
	"strconv"
	"strings"
	"time"
)

// Times returns when the token was issued (nbf, else iat, else the unix
// time in its jti, as Claims.IssuedAt), its not-before and its expiry;
// a zero time for each one the token lacks.
//
// It works from the claims' numbers rather than calling the Claims methods
// that return a time.Time: in the browser build, reaching those methods
// makes the linker keep every method of time.Time, Go's time parser among
// them, which costs about 25 KB of compressed download.
func Times(c Claims) (issued, notBefore, expires time.Time) {
	unix := func(s int64) time.Time {
		if s == 0 {
			return time.Time{}
		}
		return time.Unix(s, 0)
	}
	notBefore, expires = unix(c.Nbf), unix(c.Exp)
	switch {
	case c.Nbf != 0:
		issued = notBefore
	case c.Iat != 0:
		issued = unix(c.Iat)
	default:
		if i := strings.LastIndexByte(c.JTI, '-'); i >= 0 {
			if s, err := strconv.ParseInt(c.JTI[i+1:], 10, 64); err == nil && s > 0 {
				issued = unix(s)
			}
		}
	}
	return issued, notBefore, expires
}
