package token

import (
	"strconv"
	"time"
)

// Stamp formats unix seconds as tokenlab writes every time a person
// reads (lint findings, the CLI, the API's reasons): RFC 3339 in UTC,
// "2006-01-02T15:04:05Z", or the bare number for a year past 9999.
func Stamp(sec int64) string {
	t := time.Unix(sec, 0).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return strconv.FormatInt(sec, 10) + " (unix seconds)"
	}
	// By hand rather than t.Format(time.RFC3339): the page's program then
	// links no layout-driven time formatting (about 25 KB of wasm).
	y, mo, d := t.Date()
	h, mi, se := t.Clock()
	b := make([]byte, 0, len("2006-01-02T15:04:05Z"))
	b = pad(b, y, 4, '-')
	b = pad(b, int(mo), 2, '-')
	b = pad(b, d, 2, 'T')
	b = pad(b, h, 2, ':')
	b = pad(b, mi, 2, ':')
	b = pad(b, se, 2, 'Z')
	return string(b)
}

// pad appends n, zero-padded to width digits, then sep.
func pad(b []byte, n, width int, sep byte) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(append(b, s...), sep)
}
