//go:build js && wasm

package main

import (
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/wasm/view"
)

// ui holds the page's elements. It only copies values computed by the client
// and by package view into them.
type ui struct {
	status, conn, offset, logout, noticeEl js.Value
	signin, live, form, submit             js.Value
	jti, renewals, renewNow                js.Value
	timeline, lifetime                     js.Value
	paste, verify, verifyResult, pasteEr   js.Value
	// The embed's collapsed panel: one line of the live token.
	miniIdentity, miniCountdown, miniGrants js.Value

	liveView, inspectView *tokenView
	sdk                   *sdkCard
	inspected             *token.Token
	lastStatus            view.Status
	// expiringUntil keeps the status pill at "expiring" for a moment after
	// the server's warning: the renewal follows within milliseconds, and a
	// person demoing the flow would never see the warning otherwise.
	// snapshot() reports the real status throughout.
	expiringUntil time.Time
	busyNow       bool // the sign-in button says "Signing in…"
	bootGone      bool // the "loading" placeholder is removed

	// later runs work after the browser's next paint (page.later).
	later func(func())
}

func newUI() *ui {
	u := &ui{
		status: byID("status"), conn: byID("conn"), offset: byID("offset"), logout: byID("logout"),
		noticeEl: byID("notice"), signin: byID("signin"), live: byID("live"), form: byID("login"),
		submit: byID("login-submit"), jti: byID("jti"), renewals: byID("renewals"), renewNow: byID("renew-now"),
		timeline: byID("timeline"), lifetime: byID("lifetime-card"), paste: byID("paste"), verify: byID("verify"),
		verifyResult: byID("verify-result"), pasteEr: byID("paste-error"),
		miniIdentity: byID("mini-identity"), miniCountdown: byID("mini-countdown"), miniGrants: byID("mini-grants"),
	}
	u.liveView = newTokenView(byID("live-view"))
	u.inspectView = newTokenView(byID("inspect-view"))
	u.sdk = newSDKCard()
	return u
}

// tokenView is one rendering of a token (the live one, the pasted one),
// cloned from the page's <template id="token-view">.
type tokenView struct {
	root  js.Value
	parts map[string]js.Value
	tok   *token.Token

	// later, when set, runs work the first sight of a token does not need
	// (local times, lint findings) after the browser has painted it.
	later func(func())

	// leeway is how far the page's estimate of the server's clock may be
	// off (its uncertainty, plus lintMargin): lint allows it.
	leeway time.Duration
	// linted is what the lint list shows ("" before the first lint);
	// lintedAt is when, so that tick lints again once a second and the
	// time-dependent findings (expired, not yet valid) follow the clock.
	linted   string
	lintedAt time.Time
}

var viewParts = []string{"identity", "countdown", "bar", "bar-track", "iat-local", "iat-utc", "nbf-local", "nbf-utc",
	"exp-local", "exp-utc", "grants", "lint", "header", "payload", "raw", "copy"}

func newTokenView(root js.Value) *tokenView {
	v := &tokenView{root: root, parts: map[string]js.Value{}, leeway: lintMargin}
	if !root.Truthy() {
		return v // a view this page does not have (the embed inspects nothing)
	}
	tpl := byID("token-view").Get("content").Call("cloneNode", true)
	root.Call("append", tpl)
	for _, p := range viewParts {
		v.parts[p] = part(root, p)
	}
	return v
}

// show fills the view with t; the parts that change with time are left to
// tick.
func (v *tokenView) show(t *token.Token, now time.Time) {
	if t == v.tok {
		return
	}
	v.tok = t
	if t == nil {
		setHidden(v.root, true)
		return
	}
	setHidden(v.root, false)
	c := t.Claims
	issued, nbf, exp := token.Times(c)
	setText(v.parts["identity"], orDash(c.Identity()))
	times := []struct {
		name string
		t    time.Time
	}{{"iat", issued}, {"nbf", nbf}, {"exp", exp}}
	for _, tt := range times {
		setText(v.parts[tt.name+"-utc"], view.UTC(tt.t))
	}
	// secondary is what a first look at the token can do without: local
	// times (the browser's first toLocaleString loads its locale data,
	// ~60 ms on a cold page) and the lint findings (a second, strict and
	// reflective decode).
	secondary := func() {
		for _, tt := range times {
			local := "—"
			if !tt.t.IsZero() {
				local = localTime(tt.t.UnixMilli())
			}
			setText(v.parts[tt.name+"-local"], local)
		}
		v.linted, v.lintedAt = showFindings(v.parts["lint"], t.Raw, now, v.leeway, ""), now
	}
	setText(v.parts["header"], view.Pretty(t.HeaderJSON))
	setText(v.parts["payload"], view.Pretty(t.PayloadJSON))
	setText(v.parts["raw"], t.Raw)
	setText(v.parts["copy"], "Copy")

	grants := v.parts["grants"]
	empty(grants)
	cards := view.Cards(t)
	if len(cards) == 0 {
		appendTo(grants, el("p", "muted", "No grants: this token opens nothing."))
	}
	for _, c := range cards {
		card := el("article", "grant-card", "")
		if !c.Known {
			card.Get("classList").Call("add", "unknown")
		}
		setAttr(card, "data-grant", c.Key)
		head := appendTo(el("h4", "", ""), el("span", "", c.Title), el("code", "key", c.Key))
		list := el("ul", "", "")
		for _, s := range c.Allows {
			appendTo(list, el("li", "", s))
		}
		details := appendTo(el("details", "", ""), el("summary", "", "raw JSON"), el("pre", "", c.JSON))
		appendTo(card, head, list, details)
		appendTo(grants, card)
	}
	if v.later == nil {
		secondary()
	} else {
		for _, tt := range times {
			setText(v.parts[tt.name+"-local"], "…")
		}
		empty(v.parts["lint"])
		v.linted = ""
		v.later(func() {
			if v.tok == t {
				secondary()
			}
		})
	}
	v.tick(now, "", 0)
}

// tick updates the countdown and the progress bar at server time now.
func (v *tokenView) tick(now time.Time, status view.Status, lead time.Duration) {
	if v.tok == nil {
		return
	}
	if v.linted != "" && now.Sub(v.lintedAt) >= time.Second {
		v.linted, v.lintedAt = showFindings(v.parts["lint"], v.tok.Raw, now, v.leeway, v.linted), now
	}
	issued, _, exp := token.Times(v.tok.Claims)
	left := exp.Sub(now)
	setText(v.parts["countdown"], view.ExpiresIn(now, exp))
	frac := view.Progress(now, issued, exp)
	pct := strconv.FormatFloat(frac*100, 'f', 1, 64)
	v.parts["bar"].Get("style").Set("width", pct+"%")
	track := v.parts["bar-track"]
	setAttr(track, "aria-valuenow", pct)
	state := "ok"
	switch {
	case exp.IsZero():
		state = "none"
	case left <= 0:
		state = "over"
	case status == view.Expiring || status == view.Renewing || (lead > 0 && left <= lead):
		state = "low"
	}
	setAttr(track, "data-state", state)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// render brings the page up to date with the client's state s at server
// time now.
func (u *ui) render(s client.Snapshot, now time.Time) {
	u.liveView.show(s.Token, now)
	setHidden(u.live, s.Token == nil)
	setHidden(u.lifetime, s.Token == nil)
	setHidden(u.logout, s.Token == nil)
	if s.Token != nil {
		setText(u.jti, s.Token.Claims.JTI)
	}
	if u.miniIdentity.Truthy() {
		identity, grants := "—", ""
		if s.Token != nil {
			identity = orDash(s.Token.Claims.Identity())
			grants = strings.Join(s.Token.Claims.Grants.Keys(), " · ")
		}
		setText(u.miniIdentity, identity)
		setText(u.miniGrants, grants)
	}
	setText(u.renewals, strconv.Itoa(s.Renewals))
	setDisabled(u.renewNow, s.Token == nil || s.Renewing)
	conn := "offline"
	switch {
	case s.Connected:
		conn = "live"
	case s.Token != nil && s.Dialling:
		conn = "connecting"
	case s.Token != nil:
		conn = "reconnecting"
	}
	setText(u.conn, conn)
	setAttr(u.conn, "data-conn", conn)
	if s.Phase != client.Starting {
		u.showSignIn(s.Phase == client.SignedOut)
	}
	u.busy(s.SigningIn)
	u.tickStatus(s, now)
	u.sdk.render(s)
}

// tick runs four times a second: countdowns, status and clock offset.
func (u *ui) tick(s client.Snapshot, now time.Time, off, unc time.Duration, known bool) {
	u.liveView.leeway, u.inspectView.leeway = unc+lintMargin, unc+lintMargin
	u.tickStatus(s, now)
	if known {
		setText(u.offset, view.Offset(off, unc))
	}
}

// expiringHold is how long the pill shows "expiring" after a warning.
const expiringHold = 1500 * time.Millisecond

// holdExpiring shows the server's warning on the status pill for a moment.
func (u *ui) holdExpiring(now time.Time) { u.expiringUntil = now.Add(expiringHold) }

func (u *ui) tickStatus(s client.Snapshot, now time.Time) {
	st := view.StatusAt(now, s.Exp, s.Lead, s.Renewing)
	if (st == view.Valid || st == view.Renewing) && s.Token != nil && now.Before(u.expiringUntil) {
		st = view.Expiring
	}
	if st != u.lastStatus {
		u.lastStatus = st
		setText(u.status, string(st))
		setAttr(u.status, "data-status", string(st))
	}
	u.liveView.tick(now, st, s.Lead)
	u.inspectView.tick(now, "", 0)
	if u.miniCountdown.Truthy() {
		left := ""
		if !s.Exp.IsZero() {
			left = view.ExpiresIn(now, s.Exp)
		}
		setText(u.miniCountdown, left)
	}
}

// showSignIn shows the sign-in form (signed out) or hides it.
func (u *ui) showSignIn(show bool) {
	setHidden(u.signin, !show)
	if u.bootGone {
		return
	}
	u.bootGone = true
	if boot := byID("boot"); boot.Truthy() {
		boot.Call("remove") // the program runs: "loading" is over
	}
}

// focusLive moves focus and the view to the live token after a sign-in:
// the form the focus was in is gone, and on a phone the page would stay
// scrolled to where the form's button was, far below the countdown.
func (u *ui) focusLive() {
	if embedded() {
		return // the host page's focus and scroll are its own
	}
	title := byID("live-title")
	title.Call("focus", map[string]any{"preventScroll": true})
	u.live.Call("scrollIntoView", map[string]any{"block": "start"})
}

func (u *ui) busy(b bool) {
	if b == u.busyNow {
		return
	}
	u.busyNow = b
	setDisabled(u.submit, b)
	text := "Sign in and mint"
	if b {
		text = "Signing in…"
	}
	setText(u.submit, text)
}

// event adds a line to the timeline, newest first.
func (u *ui) event(text string) { u.eventAt(time.Now().UnixMilli(), text) }

// eventLater adds a line stamped now, once the browser has painted: the
// timeline is not what a first view needs.
func (u *ui) eventLater(text string) {
	ms := time.Now().UnixMilli()
	u.later(func() { u.eventAt(ms, text) })
}

func (u *ui) eventAt(ms int64, text string) {
	li := el("li", "", "")
	t := el("time", "", clockTime(ms))
	setAttr(t, "datetime", isoTime(ms))
	appendTo(li, t, el("span", "", text))
	u.timeline.Call("prepend", li)
	for u.timeline.Get("children").Length() > 200 {
		u.timeline.Get("lastElementChild").Call("remove")
	}
}

// notice shows a one-line message at the top of the page.
func (u *ui) notice(text string, isError bool) {
	setText(u.noticeEl, text)
	setAttr(u.noticeEl, "data-kind", map[bool]string{true: "error", false: "info"}[isError])
	setHidden(u.noticeEl, text == "")
}

// fieldError shows msg beside the form control the server's error field
// names ("grants.chat.service_sid"), or at the top when none matches.
func (u *ui) fieldError(field, msg string) {
	u.clearFieldErrors()
	if !u.form.Truthy() {
		u.notice(msg, true) // the embed signs in from its options: no form
		return
	}
	els := u.form.Get("elements")
	var names []string
	for i := 0; i < els.Length(); i++ {
		if n := els.Index(i).Get("name").String(); n != "" {
			names = append(names, n)
		}
	}
	name := view.FieldFor(field, names)
	if name == "" {
		u.notice(msg, true)
		return
	}
	ctl := u.form.Call("querySelector", `[name="`+name+`"]`)
	holder := ctl.Call("closest", ".field, fieldset")
	if !holder.Truthy() {
		holder = ctl.Get("parentElement")
	}
	e := el("p", "field-error", msg)
	e.Set("id", "err-"+strings.ReplaceAll(name, ".", "-"))
	setAttr(e, "data-error-for", name)
	holder.Call("append", e)
	setAttr(ctl, "aria-invalid", "true")
	setAttr(ctl, "aria-describedby", e.Get("id").String())
	if d := ctl.Call("closest", "details"); d.Truthy() {
		d.Set("open", true)
	}
	ctl.Call("focus")
}

func (u *ui) clearFieldErrors() {
	if !u.form.Truthy() {
		u.notice("", false)
		return
	}
	old := u.form.Call("querySelectorAll", ".field-error")
	for i := 0; i < old.Length(); i++ {
		old.Index(i).Call("remove")
	}
	inv := u.form.Call("querySelectorAll", "[aria-invalid]")
	for i := 0; i < inv.Length(); i++ {
		inv.Index(i).Call("removeAttribute", "aria-invalid")
		inv.Index(i).Call("removeAttribute", "aria-describedby")
	}
	u.notice("", false)
}

// formInputs reads the login form's controls.
func (u *ui) formInputs() (username, password, ttl string, grants []view.Input) {
	els := u.form.Get("elements")
	for i := 0; i < els.Length(); i++ {
		e := els.Index(i)
		name := e.Get("name").String()
		switch name {
		case "":
		case "username":
			username = e.Get("value").String()
		case "password":
			password = e.Get("value").String()
		case "ttl":
			ttl = strings.TrimSpace(e.Get("value").String())
		default:
			in := view.Input{Name: name, Value: e.Get("value").String()}
			if e.Get("type").String() == "checkbox" {
				in.Checkbox, in.Checked = true, e.Get("checked").Bool()
			}
			grants = append(grants, in)
		}
	}
	return username, password, ttl, grants
}

// inspect decodes the pasted token entirely in the page.
func (u *ui) inspect(raw string, now time.Time) {
	setText(u.verifyResult, "")
	if strings.TrimSpace(raw) == "" {
		u.inspected = nil
		setText(u.pasteEr, "")
		u.inspectView.show(nil, now)
		u.verify.Set("disabled", true)
		return
	}
	t, err := token.Decode(raw)
	if err != nil {
		u.inspected = nil
		setText(u.pasteEr, "Cannot decode: "+err.Error())
		u.inspectView.show(nil, now)
		u.verify.Set("disabled", true)
		return
	}
	u.inspected = t
	setText(u.pasteEr, "")
	u.inspectView.show(t, now)
	u.verify.Set("disabled", false)
}
