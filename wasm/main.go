//go:build js && wasm

// Command wasm is tokenlab's page program (GOOS=js GOARCH=wasm): it signs
// in, shows the live token and its grants, renews it before expiry (on the
// server's push, on its own timer, and when the page wakes), and decodes any
// pasted token without sending it anywhere.
//
// It uses the browser's fetch and WebSocket through syscall/js instead of
// net/http to stay small. Decoding, lint, scheduling and what the page shows
// are plain Go in shared/ and wasm/view, tested on the host; the files here
// only wire them to the DOM.
package main

import (
	"strconv"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

func main() {
	a := newApp()
	a.ui = newUI()
	a.ui.later, a.ui.liveView.later = a.later, a.later
	wire(a)
	exportAPI(a)
	a.publish()
	a.ui.eventLater("page loaded")
	dispatch("tokenlab:notice", map[string]any{"type": "ready"})
	a.resume() // before the loop: a token already fetched is shown at once
	if a.tok == nil {
		a.ui.render(a) // else adopt has rendered
	}
	// The page is shown now, in the same task as its first view (app.js
	// hid it while the program started).
	document.Get("documentElement").Get("classList").Call("remove", "booting")
	a.run() // never returns: the page lives as long as the tab
}

// wire connects the page's controls and the browser's lifecycle events to
// the app. Every handler returns at once; work goes to the app loop. These
// listeners live as long as the page, so they are never released.
func wire(a *app) {
	u := a.ui
	on(u.form, "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		username, password, ttl, inputs := u.formInputs()
		a.post(func() { a.submit(username, password, ttl, inputs) })
	})
	on(u.logout, "click", func(js.Value) { a.post(a.logout) })
	on(u.renewNow, "click", func(js.Value) { a.post(func() { a.renew("button") }) })
	on(u.paste, "input", func(js.Value) {
		raw := u.paste.Get("value").String()
		a.post(func() { u.inspect(raw, a.clock.now()) })
	})
	on(u.verify, "click", func(js.Value) { a.post(a.verify) })
	for _, v := range []*tokenView{u.liveView, u.inspectView} {
		v := v
		on(v.parts["copy"], "click", func(js.Value) {
			a.post(func() {
				if v.tok == nil {
					return
				}
				copyText(v.tok.Raw, func(err error) {
					a.post(func() {
						if err != nil {
							a.fail("clipboard", "could not copy: "+err.Error(), "")
							return
						}
						setText(v.parts["copy"], "Copied")
					})
				})
			})
		})
	}

	// The page may have missed time while hidden, asleep or offline: look
	// at the clock again as soon as it is back.
	on(document, "visibilitychange", func(js.Value) {
		if document.Get("visibilityState").String() == "visible" {
			a.post(func() { a.wake("page visible again") })
		}
	})
	on(global, "online", func(js.Value) { a.post(func() { a.wake("back online") }) })
	on(global, "offline", func(js.Value) { a.post(func() { a.ui.event("offline") }) })
	on(global, "focus", func(js.Value) { a.post(func() { a.wake("focus") }) })
	on(global, "pageshow", func(ev js.Value) {
		if ev.Get("persisted").Bool() { // restored from the back/forward cache
			a.post(func() { a.wake("page restored") })
		}
	})
}

// submit builds the sign-in request from the form. The page checks only
// what it needs to build JSON; the server checks the rest and names the
// field.
func (a *app) submit(username, password, ttl string, inputs []view.Input) {
	a.ui.clearFieldErrors()
	var ttlSeconds *int64
	if ttl != "" {
		n, err := strconv.ParseInt(ttl, 10, 64)
		if err != nil {
			msg := "ttl must be a whole number of seconds from " + strconv.Itoa(token.MinTTL) + " to " + strconv.Itoa(token.MaxTTL)
			a.ui.fieldError("ttl", msg)
			a.fail("invalid_field", msg, "ttl")
			return
		}
		ttlSeconds = &n
	}
	grants, err := view.BuildGrants(inputs)
	if err != nil {
		var field string
		if fe, ok := err.(*token.FieldError); ok {
			field = fe.Field
		}
		a.ui.fieldError(field, err.Error())
		a.fail("invalid_field", err.Error(), field)
		return
	}
	a.signIn(view.SignInBody(username, password, ttlSeconds, grants))
}

// verify asks the server to check the pasted token's signature: the API
// key secret never reaches the page.
func (a *app) verify() {
	t := a.ui.inspected
	if t == nil {
		return
	}
	setText(a.ui.verifyResult, "checking…")
	a.request("/token/verify", view.VerifyBody(t.Raw), func(r response) {
		if a.ui.inspected != t {
			return // another token was pasted meanwhile
		}
		valid, reason, ok := view.VerifyAnswer(r.body)
		if r.err != nil || r.status != 200 || !ok {
			_, msg, _ := errorOf(r)
			setText(a.ui.verifyResult, "could not check: "+msg)
			return
		}
		text := "signature valid"
		if !valid {
			text = "not valid here"
		}
		if reason != "" {
			text += ": " + reason
		}
		setText(a.ui.verifyResult, text)
		setAttr(a.ui.verifyResult, "data-valid", strconv.FormatBool(valid))
	})
}

// exportAPI publishes window.tokenlab for users' own headless tests (the
// contract is documented in README.md).
func exportAPI(a *app) {
	api := js.Global().Get("Object").New()
	api.Set("snapshot", js.FuncOf(func(js.Value, []js.Value) any { return a.snapshotJS() }))
	test := js.Global().Get("Object").New()
	// ignoreServerWarnings(true) drops the server's "expiring" pushes, to
	// show the page's own timer renewing alone.
	test.Set("ignoreServerWarnings", js.FuncOf(func(_ js.Value, args []js.Value) any {
		on := len(args) > 0 && args[0].Truthy()
		a.post(func() { a.ignoreWarnings = on })
		return nil
	}))
	// throttleTimers(ms) makes the page's renewal timer sleep at least ms
	// each time, as a browser throttles a hidden tab's timers; 0 undoes it.
	test.Set("throttleTimers", js.FuncOf(func(_ js.Value, args []js.Value) any {
		ms := 0
		if len(args) > 0 {
			ms = args[0].Int()
		}
		a.sched.SetMinDelay(time.Duration(ms) * time.Millisecond)
		return nil
	}))
	api.Set("test", test)
	js.Global().Set("tokenlab", api)
}

// snapshotJS builds the plain object snapshot() returns.
func (a *app) snapshotJS() any {
	a.snapMu.Lock()
	s := a.snap
	a.snapMu.Unlock()
	now := a.clock.now()
	grants := make([]any, len(s.grants))
	for i, g := range s.grants {
		grants[i] = g
	}
	var expiresAt int64
	secondsLeft := 0.0
	if !s.exp.IsZero() {
		expiresAt = s.exp.Unix()
		// Not rounded to milliseconds: a token with 0.4 ms left is still
		// valid, and must not read as 0 s left beside a live status.
		secondsLeft = max(0, s.exp.Sub(now).Seconds())
	}
	off, _, _ := a.clock.value()
	return map[string]any{
		"identity":      s.identity,
		"jti":           s.jti,
		"expiresAt":     expiresAt,
		"secondsLeft":   secondsLeft,
		"grants":        grants,
		"renewals":      s.renewals,
		"status":        string(view.StatusAt(now, s.exp, s.lead, s.renewing)),
		"connected":     s.connected,
		"clockOffsetMs": off.Milliseconds(),
	}
}
