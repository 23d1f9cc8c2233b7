//go:build js && wasm

// Command wasm is tokenlab's page program (GOOS=js GOARCH=wasm): it signs
// in, shows the live token and its grants, renews it before expiry (on the
// server's push, on its own timer, and when the page wakes), and decodes any
// pasted token without sending it anywhere.
//
// It uses the browser's fetch and WebSocket through syscall/js instead of
// net/http to stay small. Its logic is plain Go, tested on the host:
// signing in, the socket and renewal in shared/client, decoding, lint and
// scheduling in shared/, what the page shows in wasm/view. The files here
// are adapters: the client's transport over fetch and WebSocket, rendering
// its snapshots into the DOM, and the window.tokenlab test contract.
package main

import (
	"strconv"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

func main() {
	p := &page{ui: newUI()}
	p.c = client.New(client.Config{
		Transport: client.Transport{Post: postJSON, Dial: dialPage},
		Observer:  client.Observer{Changed: p.Changed, Event: p.Event, Note: p.Note, Fail: p.Fail},
		// What a first token's view does not need (the timeline, the
		// socket) waits until the token is on screen.
		Later: func(f func()) { afterPaint(p.c.Post, f) },
	})
	p.ui.later, p.ui.liveView.later = p.later, p.later
	p.chart = newChart(byID("lifetime"), byID("lifetime-axis"))
	wire(p)
	exportAPI(p)
	if embedded() {
		p.ui.eventLater("embed loaded")
		dispatch("tokenlab:notice", map[string]any{"type": "ready"})
		startEmbed(p.c)
		go p.ticks()
		p.c.Run(nil) // never returns
		return
	}
	p.ui.eventLater("page loaded")
	dispatch("tokenlab:notice", map[string]any{"type": "ready"})
	// app.js usually asked for the session's token already, while the
	// program downloaded, and often has the answer: then the token is shown
	// before the page's first layout, without waiting for the loop.
	if r, ok := bootAnswer(); ok {
		p.c.ResumeWith(r)
	} else {
		p.c.Resume(func() client.Response {
			if r, ok := bootResume(); ok {
				return r
			}
			return postJSON("/token/refresh?probe=1", nil)
		})
	}
	if p.c.Snapshot().Token == nil {
		p.Changed() // else the token's adoption has rendered
	}
	// The page is shown now, in the same task as its first view (app.js
	// hid it while the program started).
	document.Get("documentElement").Get("classList").Call("remove", "booting")
	go p.ticks()
	p.c.Run(nil) // never returns: the page lives as long as the tab
}

// ticks redraws the display four times a second. It sleeps rather than
// using a time.Ticker: a time.Time channel costs the browser build ~25 KB
// (see renew.Clock). The tick only draws; renewal decisions are the
// client's and the server's.
func (p *page) ticks() {
	for {
		time.Sleep(250 * time.Millisecond)
		p.c.Post(p.tick)
	}
}

// later runs f on the client's loop once the browser has painted its next
// frame. Calls run in the order made.
func (p *page) later(f func()) { afterPaint(p.c.Post, f) }

// wire connects the page's controls and the browser's lifecycle events to
// the client. Every handler returns at once; work goes to the client's
// loop. These listeners live as long as the page, so they are never
// released.
func wire(p *page) {
	u, c := p.ui, p.c
	on(u.form, "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		username, password, ttl, inputs := u.formInputs()
		c.Post(func() { p.submit(username, password, ttl, inputs) })
	})
	on(u.logout, "click", func(js.Value) { c.Logout() })
	on(u.renewNow, "click", func(js.Value) { c.Renew("button") })
	bindLabDrawer(p)
	on(u.paste, "input", func(js.Value) {
		raw := u.paste.Get("value").String()
		c.Post(func() { u.inspect(raw, c.Now()) })
	})
	on(u.verify, "click", func(js.Value) { c.Post(p.verify) })
	for _, v := range []*tokenView{u.liveView, u.inspectView} {
		v := v
		on(v.parts["copy"], "click", func(js.Value) {
			c.Post(func() {
				if v.tok == nil {
					return
				}
				copyText(v.tok.Raw, func(err error) {
					c.Post(func() {
						if err != nil {
							p.Fail("clipboard", "could not copy: "+err.Error(), "", false)
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
			c.Wake("page visible again")
		}
	})
	on(global, "online", func(js.Value) { c.Wake("back online") })
	on(global, "offline", func(js.Value) { c.Post(func() { u.event("offline") }) })
	on(global, "focus", func(js.Value) { c.Wake("focus") })
	on(global, "pageshow", func(ev js.Value) {
		if ev.Get("persisted").Bool() { // restored from the back/forward cache
			c.Wake("page restored")
		}
	})
}

// submit builds the sign-in request from the form. The page checks only
// what it needs to build JSON; the server checks the rest and names the
// field.
func (p *page) submit(username, password, ttl string, inputs []view.Input) {
	p.ui.clearFieldErrors()
	var ttlSeconds *int64
	if ttl != "" {
		n, err := strconv.ParseInt(ttl, 10, 64)
		if err != nil {
			msg := "ttl must be a whole number of seconds from " + strconv.Itoa(token.MinTTL) + " to " + strconv.Itoa(token.MaxTTL)
			p.Fail("invalid_field", msg, "ttl", true)
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
		p.Fail("invalid_field", err.Error(), field, true)
		return
	}
	p.c.SignIn(view.SignInBody(username, password, ttlSeconds, grants))
}

// verify asks the server to check the pasted token's signature: the API
// key secret never reaches the page.
func (p *page) verify() {
	u := p.ui
	t := u.inspected
	if t == nil {
		return
	}
	setText(u.verifyResult, "checking…")
	p.c.Request("/token/verify", view.VerifyBody(t.Raw), func(r client.Response) {
		if u.inspected != t {
			return // another token was pasted meanwhile
		}
		a, ok := protocol.ParseVerifyAnswer(r.Body)
		valid, reason := a.Valid, a.Reason
		if r.Err != nil || r.Status != 200 || !ok {
			_, msg, _ := client.ErrorOf(r)
			setText(u.verifyResult, "could not check: "+msg)
			return
		}
		text := "signature valid"
		if !valid {
			text = "not valid here"
		}
		if reason != "" {
			text += ": " + reason
		}
		setText(u.verifyResult, text)
		setAttr(u.verifyResult, "data-valid", strconv.FormatBool(valid))
	})
}

// exportAPI publishes window.tokenlab for users' own headless tests (the
// contract is documented in README.md).
func exportAPI(p *page) {
	api := js.Global().Get("tokenlab") // the embed's, with embed and panel
	if !embedded() || !api.Truthy() {
		api = js.Global().Get("Object").New()
	}
	api.Set("snapshot", js.FuncOf(func(js.Value, []js.Value) any { return p.snapshotJS() }))
	test := js.Global().Get("Object").New()
	// ignoreServerWarnings(true) drops the server's "expiring" pushes, to
	// show the page's own timer renewing alone.
	test.Set("ignoreServerWarnings", js.FuncOf(func(_ js.Value, args []js.Value) any {
		on := len(args) > 0 && args[0].Truthy()
		p.c.SetIgnoreWarnings(on)
		return nil
	}))
	// throttleTimers(ms) makes the page's renewal timer sleep at least ms
	// each time, as a browser throttles a hidden tab's timers; 0 undoes it.
	test.Set("throttleTimers", js.FuncOf(func(_ js.Value, args []js.Value) any {
		ms := 0
		if len(args) > 0 {
			ms = args[0].Int()
		}
		p.c.SetMinDelay(time.Duration(ms) * time.Millisecond)
		return nil
	}))
	exportLab(p, test)
	api.Set("test", test)
	js.Global().Set("tokenlab", api)
}

// snapshotJS builds the plain object snapshot() returns.
func (p *page) snapshotJS() any {
	s := p.c.Snapshot()
	now := p.c.Now()
	var identity, jti string
	grants := []any{}
	if s.Token != nil {
		identity, jti = s.Token.Claims.Identity(), s.Token.Claims.JTI
		for _, g := range s.Token.Claims.Grants.Keys() {
			grants = append(grants, g)
		}
	}
	var expiresAt int64
	secondsLeft := 0.0
	if !s.Exp.IsZero() {
		expiresAt = s.Exp.Unix()
		// Not rounded to milliseconds: a token with 0.4 ms left is still
		// valid, and must not read as 0 s left beside a live status.
		secondsLeft = max(0, s.Exp.Sub(now).Seconds())
	}
	off, _, _ := p.c.Offset()
	return map[string]any{
		"identity":      identity,
		"jti":           jti,
		"expiresAt":     expiresAt,
		"secondsLeft":   secondsLeft,
		"grants":        grants,
		"renewals":      s.Renewals,
		"status":        string(view.StatusAt(now, s.Exp, s.Lead, s.Renewing)),
		"connected":     s.Connected,
		"clockOffsetMs": off.Milliseconds(),
		"sessionId":     s.SessionID,
	}
}
