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
// failed, renewed and ended, through which the program hands the app its
// tokens and says when the session is over.

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
// answer has come, else when it comes. It leaves signInAgain on
// tokenlabEmbed, through which embed.js hands over each later sign-in's
// answer (a promise), once the session before it has ended.
func startEmbed(c *client.Client) {
	// Never released: the embed can sign in again as long as the page lives.
	embedHost.Set("signInAgain", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			go signInWhenAnswered(c, args[0])
		}
		return nil
	}))
	// Taken once: the answer holds a token, which the host page's global
	// need not keep.
	v, p := embedHost.Get("answer"), embedHost.Get("signIn")
	embedHost.Delete("answer")
	embedHost.Delete("signIn")
	if v.Truthy() {
		c.SignInWith(fromBoot(v))
		return
	}
	go signInWhenAnswered(c, p)
}

// signInWhenAnswered waits for the promise of a sign-in's answer, then
// hands it to the client on its loop. It blocks: run it on a goroutine.
func signInWhenAnswered(c *client.Client, p js.Value) {
	v, err := await(p)
	r := client.Response{Err: err, Sent: time.Now(), Received: time.Now()}
	if err == nil { // embed.js turns failures into {error}
		r = fromBoot(v)
	}
	c.Post(func() { c.SignInWith(r) })
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

// embedEnded tells embed.js that the session is over (revoked, signed
// out, or past its lifetime), before the app hears of it: a
// tokenlab.embed call from then on, even from the notice's listener,
// signs in anew, and that session's first token settles its own promise.
func (p *page) embedEnded() {
	if !embedded() {
		return
	}
	p.handedFirst = false
	embedHost.Call("ended")
}
