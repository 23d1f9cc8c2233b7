//go:build js && wasm

package main

import (
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
)

// The same program runs as the embed (web/static/embed.js) in a page on
// another origin. embed.js leaves globalThis.tokenlabEmbed before starting
// it: origin (tokenlab's, where every request and the socket go), root
// (the panel's shadow root, which holds the elements the page has by id),
// signIn (a promise of the answer to the POST /token it sent while the
// program downloaded) and answer (that answer, once come), and first,
// failed and renewed, through which the program hands the app its tokens.

// embedHost is tokenlabEmbed, undefined on tokenlab's own page.
var embedHost = js.Global().Get("tokenlabEmbed")

// embedded tells whether the program runs as the embed.
func embedded() bool { return embedHost.Truthy() }

// apiBase prefixes every request's path: "" on tokenlab's own page, its
// origin in the embed. credentials sends the session cookie either way.
var apiBase, credentials = func() (string, string) {
	if embedded() {
		return embedHost.Get("origin").String(), "include"
	}
	return "", "same-origin"
}()

func uiRoot() js.Value {
	if embedded() {
		return embedHost.Get("root")
	}
	return js.Global().Get("document")
}

// startEmbed hands the client the sign-in embed.js sent: at once when its
// answer has come, else when it comes.
func startEmbed(c *client.Client) {
	// Taken once: the answer holds a token, which the host page's global
	// need not keep.
	v, p := embedHost.Get("answer"), embedHost.Get("signIn")
	embedHost.Delete("answer")
	embedHost.Delete("signIn")
	if v.Truthy() {
		c.SignInWith(fromBoot(v))
		return
	}
	go func() {
		v, err := await(p)
		r := client.Response{Err: err, Sent: time.Now(), Received: time.Now()}
		if err == nil { // embed.js turns failures into {error}
			r = fromBoot(v)
		}
		c.Post(func() { c.SignInWith(r) })
	}()
}

// embedToken hands a new token to the app: the session's first settles
// the promise tokenlab.embed returned; each later one goes to onToken and
// the tokenlab:token event, with the page's detail.
func (p *page) embedToken(n client.Note) {
	d := p.tokenDetail(n)
	if d == nil {
		return // already replaced by a newer one, which follows
	}
	if !p.handedFirst {
		p.handedFirst = true
		embedHost.Call("first", d["token"])
		return
	}
	embedHost.Call("renewed", d["token"], d)
}
