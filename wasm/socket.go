//go:build js && wasm

package main

import "syscall/js"

// socket wraps one browser WebSocket for the client. Its handlers only
// copy what arrived and hand it on; every js.Func is released when the
// socket closes.
type socket struct {
	ws    js.Value
	funcs []js.Func
}

// dial opens a WebSocket to path on tokenlab's host (the page's own, or
// the one the embed came from); message and closed receive its frames and
// its end.
func dial(path string, message func(string), closed func(int, string)) *socket {
	loc := global.Get("location")
	if apiBase != "" {
		loc = global.Get("URL").New(apiBase)
	}
	scheme := "ws:"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss:"
	}
	s := &socket{ws: global.Get("WebSocket").New(scheme + "//" + loc.Get("host").String() + path)}
	handle := func(event string, f func(ev js.Value)) {
		fn := js.FuncOf(func(this js.Value, args []js.Value) any {
			f(args[0])
			return nil
		})
		s.funcs = append(s.funcs, fn)
		s.ws.Set(event, fn)
	}
	handle("onmessage", func(ev js.Value) {
		data := ev.Get("data")
		if data.Type() != js.TypeString {
			return // the protocol sends text frames only
		}
		message(data.String())
	})
	handle("onclose", func(ev js.Value) {
		code, reason := ev.Get("code").Int(), ev.Get("reason").String()
		s.release()
		closed(code, reason)
	})
	return s
}

// Send sends a text frame if the socket is open.
func (s *socket) Send(text string) bool {
	if s == nil || s.ws.Get("readyState").Int() != 1 { // 1 is OPEN
		return false
	}
	s.ws.Call("send", text)
	return true
}

// close ends the socket without waiting; its close handler still runs.
func (s *socket) Close(code int, reason string) {
	if s != nil {
		s.ws.Call("close", code, reason)
	}
}

func (s *socket) release() {
	for _, f := range s.funcs {
		f.Release()
	}
	s.funcs = nil
	s.ws.Set("onmessage", js.Null())
	s.ws.Set("onclose", js.Null())
}
