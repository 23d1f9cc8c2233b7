package lint

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// kindOf names the kind of a JSON value for a message: "a string",
// "a number"…; "nothing" for a missing one.
func kindOf(v jsonlite.Value) string {
	switch v.Kind {
	case jsonlite.String:
		return "a string"
	case jsonlite.Object:
		return "an object"
	case jsonlite.Array:
		return "an array"
	case jsonlite.Bool:
		return "a boolean"
	case jsonlite.Null:
		return "null"
	case jsonlite.Number:
		return "a number"
	}
	return "nothing"
}

// numeric reads a JSON value as whole unix seconds. problem says, for a
// person, why it is not one.
func numeric(v jsonlite.Value) (n int64, problem string) {
	if v.Kind != jsonlite.Number {
		hint := ""
		if v.Kind == jsonlite.String {
			hint = " (write it without quotes)"
		}
		return 0, "must be a number of unix seconds, not " + kindOf(v) + hint
	}
	if n, ok := v.Int64(); ok {
		return n, ""
	}
	f, ok := v.Float64()
	switch {
	case !ok || math.Abs(f) >= 9e18:
		return 0, "is out of range for unix seconds"
	case f != math.Trunc(f):
		return 0, "must be whole unix seconds, without a fraction"
	}
	return int64(f), "" // 1.6e9 is a whole number written as a float
}

// quote quotes a value from the token for a message, shortened so that a
// pasted megabyte does not flood the terminal.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

// human formats a number of seconds as a short duration: "45s", "3m",
// "3m20s", "2h5m", "3d4h", "2y307d".
func human(sec int64) string {
	if sec == math.MinInt64 { // it has no opposite
		sec++
	}
	if sec < 0 {
		sec = -sec
	}
	const minute, hour, day, year = 60, 3600, 86400, 365 * 86400
	switch {
	case sec < minute:
		return strconv.FormatInt(sec, 10) + "s"
	case sec < hour:
		return joinUnits(sec/minute, "m", sec%minute, "s")
	case sec < 2*day:
		return joinUnits(sec/hour, "h", sec%hour/minute, "m")
	case sec < year:
		return joinUnits(sec/day, "d", sec%day/hour, "h")
	}
	return joinUnits(sec/year, "y", sec%year/day, "d")
}

func joinUnits(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return strconv.FormatInt(a, 10) + ua
	}
	return strconv.FormatInt(a, 10) + ua + strconv.FormatInt(b, 10) + ub
}

// list joins names for a sentence: "a", "a and b", "a, b and c".
func list(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
