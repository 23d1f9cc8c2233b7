//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

// lintMargin is added to the clock estimate's uncertainty to make lint's
// leeway: the display ticks a quarter of a second apart, and a token the
// server has just minted carries its nbf rounded down to the second.
const lintMargin = 500 * time.Millisecond

// showFindings lists what shared/lint finds in raw at server time now,
// each with the Twilio error code a service would answer. now is the
// page's estimate of the server's clock, good to within leeway: a token is
// called not yet valid only beyond it. It returns what it showed, so that
// the caller redraws only when the findings change as time passes.
func showFindings(list js.Value, raw string, now time.Time, leeway time.Duration, shown string) string {
	findings := lint.CheckWithin(raw, now, leeway)
	key := ""
	for _, f := range findings {
		key += strconv.Itoa(f.Code) + f.Field + f.Message + "\n"
	}
	if key == shown && shown != "" {
		return shown
	}
	empty(list)
	if len(findings) == 0 {
		appendTo(list, el("li", "finding ok", "No findings: Twilio's services would accept this token's shape (the signature is checked on the server)."))
		return "none"
	}
	for _, f := range findings {
		li := el("li", "finding "+string(f.Severity), "")
		setAttr(li, "data-code", strconv.Itoa(f.Code))
		code := "—"
		if f.Code != 0 {
			code = strconv.Itoa(f.Code)
		}
		appendTo(li,
			el("span", "sev", string(f.Severity)),
			el("code", "code", code),
			el("code", "field", f.Field),
			el("span", "msg", f.Message))
		appendTo(list, li)
	}
	return key
}
