//go:build js && wasm

package main

import (
	"github.com/tokenlab/tokenlab/shared/client"
)

// page adapts the client to the browser: it renders the client's
// snapshots, writes its timeline lines and fires its notes as the
// CustomEvents of the page's test contract (README.md). Every method runs
// on the client's loop.
type page struct {
	c  *client.Client
	ui *ui

	// rendered is false until the first render: the page is shown then
	// (see main).
	rendered bool
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
}

// Event adds a line to the timeline.
func (p *page) Event(unixMS int64, text string) { p.ui.eventAt(unixMS, text) }

// Fail shows an error (beside the form field at fault, for a sign-in) and
// fires tokenlab:error.
func (p *page) Fail(code, message, field string, signIn bool) {
	if signIn {
		p.ui.fieldError(field, message)
	}
	p.ui.notice(message, true)
	dispatch("tokenlab:error", map[string]any{"code": code, "message": message, "field": field})
}

// Note fires the CustomEvent for n, with the details the page has always
// reported.
func (p *page) Note(n client.Note) {
	switch n.Kind {
	case client.NoteToken:
		dispatch("tokenlab:token", map[string]any{
			"jti": n.JTI, "identity": n.Identity, "expiresAt": n.Exp, "renewals": n.Renewals, "trigger": n.Trigger,
		})
		if n.Trigger == client.TriggerSignIn {
			p.ui.focusLive()
		}
	case client.NoteConnected:
		dispatch("tokenlab:notice", map[string]any{"type": "connected", "reconnect": n.Reconnect})
	case client.NoteDisconnected:
		dispatch("tokenlab:notice", map[string]any{"type": "disconnected", "code": n.Code, "reason": n.Reason})
	case client.NoteExpiring:
		dispatch("tokenlab:notice", map[string]any{"type": "expiring", "jti": n.JTI, "exp": n.Exp, "ignored": n.Ignored})
	case client.NoteExpired:
		dispatch("tokenlab:notice", map[string]any{"type": "expired", "jti": n.JTI})
	case client.NoteRevoked:
		dispatch("tokenlab:notice", map[string]any{"type": "revoked", "reason": n.Reason})
	case client.NoteSignedOut:
		dispatch("tokenlab:notice", map[string]any{"type": "signed_out", "reason": n.Reason, "message": n.Message})
	}
}

// dialPage opens the client's socket to the page's own host.
func dialPage(message func(string), closed func(int, string)) client.Socket {
	return dial("/ws", message, closed)
}
