//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
)

// app.js sends the session's POST /token/refresh while the program
// downloads and leaves it in globalThis.tokenlabBoot: resume, a promise of
// the answer, and answer, the answer itself once it has come. The program
// takes it once, so that a reload shows its token without a second round
// trip after start-up.

// bootAnswer returns the answer when it has already come. It never blocks.
func bootAnswer() (r client.Response, ok bool) {
	boot := global.Get("tokenlabBoot")
	if !boot.Truthy() || !boot.Get("answer").Truthy() {
		return r, false
	}
	v := boot.Get("answer")
	boot.Delete("answer")
	boot.Delete("resume")
	return fromBoot(v), true
}

// bootResume waits for the answer when app.js sent the request; ok is
// false when it did not (another loader): the caller asks itself. It
// blocks: run it on a goroutine.
func bootResume() (r client.Response, ok bool) {
	boot := global.Get("tokenlabBoot")
	if !boot.Truthy() || !boot.Get("resume").Truthy() {
		return r, false
	}
	p := boot.Get("resume")
	boot.Delete("resume")
	boot.Delete("answer")
	v, err := await(p)
	if err != nil { // app.js turns failures into {error}; this is a bug
		return client.Response{Err: err, Sent: time.Now(), Received: time.Now()}, true
	}
	return fromBoot(v), true
}

// fromBoot reads app.js's {status, body, date, sent, received} or
// {error, sent, received}.
func fromBoot(v js.Value) client.Response {
	r := client.Response{
		Sent:     time.UnixMilli(int64(v.Get("sent").Float())),
		Received: time.UnixMilli(int64(v.Get("received").Float())),
	}
	if e := v.Get("error"); e.Truthy() {
		r.Err = errors.New(e.String())
		return r
	}
	r.Status = v.Get("status").Int()
	r.ServerTime = parseHTTPDate(v.Get("date").String())
	r.Body = []byte(v.Get("body").String())
	return r
}

// afterPaint runs f on the client's loop (through post) once the browser has
// painted the current frame: work the first view does not need waits
// until the token is on screen. A hidden page paints nothing and gets no
// animation frames, so there f runs after the current task instead of
// waiting until the page is shown.
func afterPaint(post func(func()), f func()) {
	var frame, task js.Func
	task = js.FuncOf(func(js.Value, []js.Value) any {
		task.Release()
		post(f)
		return nil
	})
	if document.Get("hidden").Bool() {
		global.Call("setTimeout", task, 0)
		return
	}
	frame = js.FuncOf(func(js.Value, []js.Value) any {
		frame.Release()
		global.Call("setTimeout", task, 0)
		return nil
	})
	global.Call("requestAnimationFrame", frame)
}
