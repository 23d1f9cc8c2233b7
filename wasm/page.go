//go:build js && wasm

package main

import (
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/lifetime"
	"github.com/tokenlab/tokenlab/shared/token"
)

// page adapts the client to the browser: it renders the client's
// snapshots, writes its timeline lines and fires its notes as the
// CustomEvents of the page's test contract (README.md). Every method runs
// on the client's loop.
type page struct {
	c  *client.Client
	ui *ui

	// history is the session's tokens and events, drawn by chart.
	history lifetime.History
	chart   *chart

	// handedFirst is set once the embed has handed the app its first
	// token (embed.go).
	handedFirst bool
}

// Changed renders the client's new state.
func (p *page) Changed() {
	if p.c == nil || p.ui == nil {
		return // the client publishes once while it is built
	}
	p.ui.render(p.c.Snapshot(), p.c.Now())
}

// tick redraws what changes with time, four times a second.
func (p *page) tick() {
	off, unc, known := p.c.Offset()
	p.ui.tick(p.c.Snapshot(), p.c.Now(), off, unc, known)
	p.drawChart()
}

// chartTokens is how many of the latest tokens the chart shows; older ones
// are counted at its edge.
const chartTokens = 8

// drawChart lays the history out around the server's now and draws it.
func (p *page) drawChart() {
	if p.chart == nil || p.history.Len() == 0 {
		return
	}
	p.chart.draw(p.history.Layout(p.c.Now(), chartTokens, 10*time.Second))
}

// mark records an event on the chart, at the server's now.
func (p *page) mark(kind, label string) {
	p.history.AddMarker(lifetime.Marker{At: p.c.Now(), Kind: kind, Label: label})
}

// record adds the client's current token to the chart: a sign-in starts a
// new chart, a renewal is also a marker with its trigger.
func (p *page) record(n client.Note) {
	s := p.c.Snapshot()
	if s.Token == nil || s.Token.Claims.JTI != n.JTI {
		return
	}
	if n.Trigger == client.TriggerSignIn {
		p.history.Reset()
	} else if n.Trigger != "resumed" {
		p.mark(lifetime.KindRenewal, n.Trigger)
	}
	issued, nbf, exp := token.Times(s.Token.Claims)
	if nbf.IsZero() {
		nbf = issued
	}
	p.history.AddToken(lifetime.Token{JTI: n.JTI, NotBefore: nbf, Expires: exp, Lead: s.Lead, Trigger: n.Trigger})
	p.drawChart()
}

// Event adds a line to the timeline.
func (p *page) Event(unixMS int64, text string) { p.ui.eventAt(unixMS, text) }

// Fail shows an error (beside the form field at fault, for a sign-in) and
// fires tokenlab:error.
func (p *page) Fail(code, message, field string, signIn bool) {
	if signIn {
		p.ui.fieldError(field, message)
	} else if p.history.Len() > 0 {
		p.mark(lifetime.KindFault, code)
	}
	p.ui.notice(message, true)
	if signIn && embedded() {
		// The app's sign-in: one code for it, the server's as reason; the
		// promise tokenlab.embed returned is rejected with the same
		// message.
		dispatch("tokenlab:error", map[string]any{"code": "signin", "message": message, "field": field, "reason": code})
		if !p.handedFirst {
			embedHost.Call("failed", message)
		}
		return
	}
	dispatch("tokenlab:error", map[string]any{"code": code, "message": message, "field": field})
}

// Note fires the CustomEvent for n, with the details the page has always
// reported.
func (p *page) Note(n client.Note) {
	switch n.Kind {
	case client.NoteToken:
		if embedded() {
			p.embedToken(n)
		} else if d := p.tokenDetail(n); d != nil {
			dispatch("tokenlab:token", d)
		}
		if n.Trigger == client.TriggerSignIn {
			p.ui.focusLive()
		}
		p.record(n)
	case client.NoteConnected:
		dispatch("tokenlab:notice", map[string]any{"type": "connected", "reconnect": n.Reconnect})
		if n.Reconnect {
			p.mark(lifetime.KindReconnect, "")
		}
	case client.NoteDisconnected:
		dispatch("tokenlab:notice", map[string]any{"type": "disconnected", "code": n.Code, "reason": n.Reason})
		p.mark(lifetime.KindDisconnect, strconv.Itoa(n.Code))
	case client.NoteExpiring:
		dispatch("tokenlab:notice", map[string]any{"type": "expiring", "jti": n.JTI, "exp": n.Exp, "ignored": n.Ignored, "reason": n.Reason})
		p.mark(lifetime.KindWarning, n.Reason)
		p.ui.holdExpiring(p.c.Now())
	case client.NoteExpired:
		dispatch("tokenlab:notice", map[string]any{"type": "expired", "jti": n.JTI, "reason": n.Reason})
		p.mark(lifetime.KindExpired, n.Reason)
	case client.NoteRevoked:
		p.embedEnded()
		dispatch("tokenlab:notice", map[string]any{"type": "revoked", "reason": n.Reason})
	case client.NoteSignedOut:
		p.embedEnded()
		dispatch("tokenlab:notice", map[string]any{"type": "signed_out", "reason": n.Reason, "message": n.Message})
	case client.NoteSDK:
		sdkNote(n.SDK)
	case client.NoteLab:
		dispatch("tokenlab:notice", map[string]any{"type": "lab", "action": n.Reason, "message": n.Message})
		p.mark(lifetime.KindFault, "lab: "+n.Message)
		p.drawChart()
	}
}

// tokenDetail is the tokenlab:token event's detail for n, the same on the
// page and in the embed: expiresAt in unix seconds, as in snapshot(). It
// is nil when n's token is no longer the live one.
func (p *page) tokenDetail(n client.Note) map[string]any {
	s := p.c.Snapshot()
	if s.Token == nil || s.Token.Claims.JTI != n.JTI {
		return nil
	}
	return map[string]any{
		"token": s.Token.Raw, "identity": n.Identity, "expiresAt": n.Exp, "sessionId": s.SessionID,
		"jti": n.JTI, "renewals": n.Renewals, "trigger": n.Trigger,
	}
}

// dialPage opens the client's socket to the page's own host.
func dialPage(message func(string), closed func(int, string)) client.Socket {
	return dial("/ws", message, closed)
}
