//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"
	"time"
)

// The page's DOM helpers: thin wrappers over syscall/js. Elements are built
// with createElement and textContent, never innerHTML, so nothing a token
// carries can inject markup.

var (
	global   = js.Global()
	document = global.Get("document")
	// root holds the program's elements: the page's document, or the
	// embed's shadow root in another site's page (embed.go).
	root = uiRoot()
)

func byID(id string) js.Value { return root.Call("getElementById", id) }

// part finds the element marked data-part=name inside root.
func part(root js.Value, name string) js.Value {
	return root.Call("querySelector", `[data-part="`+name+`"]`)
}

// el creates an element with a class and text; empty strings are skipped.
func el(tag, class, text string) js.Value {
	e := document.Call("createElement", tag)
	if class != "" {
		e.Set("className", class)
	}
	if text != "" {
		e.Set("textContent", text)
	}
	return e
}

func appendTo(parent js.Value, children ...js.Value) js.Value {
	for _, c := range children {
		parent.Call("append", c)
	}
	return parent
}

func setText(e js.Value, s string) {
	if e.Truthy() && e.Get("textContent").String() != s {
		e.Set("textContent", s)
	}
}

func empty(e js.Value) { e.Call("replaceChildren") }

func setHidden(e js.Value, hidden bool) {
	if e.Truthy() {
		e.Set("hidden", hidden)
	}
}

func setAttr(e js.Value, name, value string) {
	if e.Truthy() {
		e.Call("setAttribute", name, value)
	}
}

// setDisabled enables or disables a control the view has (the embed
// shows fewer than the page).
func setDisabled(e js.Value, disabled bool) {
	if e.Truthy() {
		e.Set("disabled", disabled)
	}
}

// on adds a handler. handle runs inside the browser's event dispatch: it
// must not block, so anything slow is posted to the client's loop. The
// page's handlers live as long as the page, so their js.Func is never
// released.
func on(target js.Value, event string, handle func(ev js.Value)) {
	if !target.Truthy() {
		return // a control this view does not have
	}
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		var ev js.Value
		if len(args) > 0 {
			ev = args[0]
		}
		handle(ev)
		return nil
	})
	target.Call("addEventListener", event, fn)
}

// dispatch fires a CustomEvent on window for users' own scripts and tests.
func dispatch(name string, detail map[string]any) {
	ev := global.Get("CustomEvent").New(name, map[string]any{"detail": detail})
	global.Call("dispatchEvent", ev)
}

// localTime formats unix milliseconds in the browser's locale and zone.
func localTime(ms int64) string {
	return global.Get("Date").New(ms).Call("toLocaleString").String()
}

// clockTime formats unix milliseconds as the local wall-clock time of day
// with milliseconds, for the timeline.
func clockTime(ms int64) string {
	d := global.Get("Date").New(ms)
	pad := func(n, w int) string {
		s := strconv.Itoa(n)
		for len(s) < w {
			s = "0" + s
		}
		return s
	}
	return pad(d.Call("getHours").Int(), 2) + ":" + pad(d.Call("getMinutes").Int(), 2) + ":" +
		pad(d.Call("getSeconds").Int(), 2) + "." + pad(d.Call("getMilliseconds").Int(), 3)
}

// parseHTTPDate reads an HTTP Date header with the browser's Date.parse,
// which spares the program Go's time parser. It returns the zero time for
// what is not a date.
func parseHTTPDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	v := global.Get("Date").Call("parse", s).Float()
	if v != v { // NaN: not a date
		return time.Time{}
	}
	return time.UnixMilli(int64(v))
}

// isoTime formats unix milliseconds as ISO 8601 UTC.
func isoTime(ms int64) string { return global.Get("Date").New(ms).Call("toISOString").String() }
