//go:build js && wasm

package main

import (
	"strconv"
	"strings"
	"syscall/js"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/token"
)

// sdkCard lists the Twilio SDK connections whose token is for the signed-in
// identity (the server's "sdk" messages), so that a demo shows the app's
// side of the lifecycle beside the page's own. The page and the embed's
// full view have the card; without it, render does nothing.
type sdkCard struct {
	card, list, empty, identity js.Value
	shown                       string // the rendered list, to skip redrawing it unchanged
}

func newSDKCard() *sdkCard {
	return &sdkCard{card: byID("sdk-card"), list: byID("sdk-list"), empty: byID("sdk-empty"), identity: byID("sdk-identity")}
}

// render shows s's SDK connections, newest last; the card is there while
// signed in.
func (k *sdkCard) render(s client.Snapshot) {
	if !k.card.Truthy() {
		return
	}
	setHidden(k.card, s.Token == nil)
	if s.Token == nil {
		return
	}
	setText(k.identity, s.Token.Claims.Identity())
	setHidden(k.empty, len(s.SDK) > 0)
	var key strings.Builder
	for _, c := range s.SDK {
		key.WriteString(c.ID + c.Event + c.State + strconv.FormatInt(c.Exp, 10) + strconv.Itoa(c.ErrorCode) + ";")
	}
	if key.String() == k.shown {
		return
	}
	k.shown = key.String()
	empty(k.list)
	for _, c := range s.SDK {
		event := c.Event
		if c.ErrorCode != 0 {
			event += " " + strconv.Itoa(c.ErrorCode)
		}
		exp := "—"
		if c.Exp != 0 {
			exp = token.Stamp(c.Exp)
		}
		li := el("li", "", "")
		setAttr(li, "data-sdk-id", c.ID)
		setAttr(li, "data-product", c.Product)
		setAttr(li, "data-event", c.Event)
		setAttr(li, "data-state", c.State)
		appendTo(li,
			el("code", "", c.ID),
			el("strong", "", c.Product),
			el("span", "sdk-event", event),
			el("span", "muted", "token expires "+exp),
			el("span", "muted", c.State+" · "+localTime(c.EventAt.UnixMilli())))
		appendTo(k.list, li)
	}
}

// sdkNote fires the CustomEvent of an SDK connection's change.
func sdkNote(c client.SDKConn) {
	dispatch("tokenlab:notice", map[string]any{"type": "sdk", "id": c.ID, "product": c.Product, "identity": c.Identity,
		"event": c.Event, "errorCode": c.ErrorCode, "exp": c.Exp, "state": c.State})
}
