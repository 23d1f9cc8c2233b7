//go:build js && wasm

package main

import (
	"syscall/js"

	"github.com/tokenlab/tokenlab/shared/client"
)

// exportLab adds the lab's hooks to window.tokenlab.test: each orders a
// fault for the page's own session (POST /lab/…, its cookie) and returns
// a Promise of the server's answer, rejected with its message when the
// server refuses. What follows reaches the page as a real fault would;
// the order itself is a "lab" notice and a marker on the lifetime chart.
func exportLab(p *page, test js.Value) {
	order := func(action, what string, body []byte) any {
		return newPromise(func(resolve, reject func(any)) {
			p.c.Lab(action, what, body, func(r client.Response) {
				if r.Err == nil && r.Status == 200 {
					resolve(js.Global().Get("JSON").Call("parse", string(r.Body)))
					return
				}
				_, msg, _ := client.ErrorOf(r)
				reject(js.Global().Get("Error").New(msg))
			})
		})
	}
	// body is the JSON of the keys given arguments, as given: the server
	// checks every type and bound and names the one broken.
	body := func(args []js.Value, keys ...string) []byte {
		obj := js.Global().Get("Object").New()
		for i, k := range keys {
			if i < len(args) && !args[i].IsUndefined() {
				obj.Set(k, args[i])
			}
		}
		return []byte(js.Global().Get("JSON").Call("stringify", obj).String())
	}
	arg := func(args []js.Value, i int, def string) string {
		if i < len(args) && !args[i].IsUndefined() {
			return js.Global().Get("JSON").Call("stringify", args[i]).String()
		}
		return def
	}
	test.Set("expireNow", js.FuncOf(func(js.Value, []js.Value) any {
		return order("expire", "expire now", nil)
	}))
	test.Set("warnNow", js.FuncOf(func(js.Value, []js.Value) any {
		return order("warn", "warn now", nil)
	}))
	// failRenewals(n, status): the next n renewals fail with status
	// (401, 429, 500 or 503).
	test.Set("failRenewals", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return order("fail", "fail the next "+arg(args, 0, "1")+" renewals with "+arg(args, 1, "?"),
			body(args, "count", "status"))
	}))
	// delayRenewals(ms, n): the next n renewals (1 when absent) wait ms.
	test.Set("delayRenewals", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return order("fail", "delay the next "+arg(args, 1, "1")+" renewals by "+arg(args, 0, "?")+" ms",
			body(args, "delay_ms", "count"))
	}))
	// skew(seconds): the next tokens are minted as by a clock off by
	// seconds; 0 clears.
	test.Set("skew", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return order("skew", "mint with the clock off by "+arg(args, 0, "?")+" s", body(args, "seconds"))
	}))
	// drop(code): the session's sockets close with code (1006: cut).
	test.Set("drop", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return order("drop", "drop the sockets with "+arg(args, 0, "?"), body(args, "code"))
	}))
}

// bindLabDrawer makes each button of the page's lab drawer order its
// fault (data-lab, with the JSON body of data-body), labelled with the
// button's text.
func bindLabDrawer(p *page) {
	buttons := root.Call("querySelectorAll", "#lab button[data-lab]")
	for i := range buttons.Length() {
		b := buttons.Index(i)
		action := b.Get("dataset").Get("lab").String()
		var body []byte
		if v := b.Get("dataset").Get("body"); !v.IsUndefined() {
			body = []byte(v.String())
		}
		what := b.Get("textContent").String()
		on(b, "click", func(js.Value) { p.c.Lab(action, what, body, func(client.Response) {}) })
	}
}

// newPromise returns a JavaScript Promise settled by run's resolve or
// reject, which may be called later from any goroutine.
func newPromise(run func(resolve, reject func(any))) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		run(func(v any) { resolve.Invoke(v) }, func(v any) { reject.Invoke(v) })
		executor.Release()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}
