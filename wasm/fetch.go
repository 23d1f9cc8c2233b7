//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
)

// The page talks HTTP through the browser's fetch, not net/http: net/http
// would add hundreds of kilobytes to the program and goes through fetch
// anyway.

// await blocks the calling goroutine until the promise settles. It must
// never run inside a js.FuncOf callback (that would deadlock the page):
// callers are goroutines started for the purpose.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	catch := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "failed"
		if len(args) > 0 && args[0].Truthy() {
			msg = args[0].Call("toString").String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	r := <-ch
	return r.v, r.err
}

// requestTimeout bounds every request the page makes.
const requestTimeout = 10 * time.Second

// postJSON sends body to path and waits for the whole answer. It blocks:
// run it on a goroutine.
func postJSON(path string, body []byte) client.Response {
	r := client.Response{Sent: time.Now()}
	init := map[string]any{
		"method":      "POST",
		"headers":     map[string]any{"Content-Type": "application/json"},
		"credentials": credentials,
		"cache":       "no-store",
	}
	if body != nil {
		init["body"] = string(body)
	}
	// A server that accepts the request and never answers must not leave a
	// renewal hanging forever: give up after requestTimeout.
	if abort := global.Get("AbortSignal"); abort.Truthy() && abort.Get("timeout").Truthy() {
		init["signal"] = abort.Call("timeout", requestTimeout.Milliseconds())
	}
	resp, err := await(global.Call("fetch", apiBase+path, init))
	if err != nil {
		r.Err = err
		r.Received = time.Now()
		return r
	}
	r.Received = time.Now()
	r.Status = resp.Get("status").Int()
	if d := resp.Get("headers").Call("get", "Date"); d.Truthy() {
		r.ServerTime = parseHTTPDate(d.String())
	}
	text, err := await(resp.Call("text"))
	if err != nil {
		r.Err = err
		return r
	}
	r.Body = []byte(text.String())
	return r
}

// copyText puts s on the clipboard. It returns at once; the outcome comes
// back through done, which posts to the client's loop.
func copyText(s string, done func(error)) {
	clip := global.Get("navigator").Get("clipboard")
	if !clip.Truthy() {
		done(errors.New("the clipboard is not available here (it needs a secure context such as localhost)"))
		return
	}
	go func() { _, err := await(clip.Call("writeText", s)); done(err) }()
}
