//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

// showFindings lists what shared/lint finds in raw at server time now,
// each with the Twilio error code a service would answer.
func showFindings(list js.Value, raw string, now time.Time) {
	empty(list)
	findings := lint.Check(raw, now)
	if len(findings) == 0 {
		appendTo(list, el("li", "finding ok", "No findings: Twilio's services would accept this token's shape (the signature is checked on the server)."))
		return
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
}
