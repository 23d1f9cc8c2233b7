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
	return FormatUTC(t, "T", "Z")
}

// FormatUTC writes t in UTC as "2006-01-02", between, "15:04:05", after:
// the one formatter behind Stamp and the page's UTC column. By hand rather
// than t.Format: the page's program then links no layout-driven time
// formatting (about 25 KB of wasm). A negative year keeps its sign.
func FormatUTC(t time.Time, between, after string) string {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, se := t.Clock()
	b := make([]byte, 0, len("2006-01-02")+len(between)+len("15:04:05")+len(after)+1)
	b = pad(b, y, 4, "-")
	b = pad(b, int(mo), 2, "-")
	b = pad(b, d, 2, between)
	b = pad(b, h, 2, ":")
	b = pad(b, mi, 2, ":")
	b = pad(b, se, 2, after)
	return string(b)
}

// pad appends n, zero-padded to width digits, then sep.
func pad(b []byte, n, width int, sep string) []byte {
	if n < 0 {
		b, n = append(b, '-'), -n
	}
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(append(b, s...), sep...)
}
