//go:build js && wasm

package main

import "syscall/js"

// socket wraps one browser WebSocket. Its handlers only copy what arrived
// and hand it to the app loop; every js.Func is released when the socket
// closes.
type socket struct {
	ws    js.Value
	funcs []js.Func
}

// socketHandlers receive a socket's events on the app loop.
type socketHandlers struct {
	open    func()
	message func(data string)
	close   func(code int, reason string)
}

// dial opens a WebSocket to path on the page's own host. post runs each
// handler on the app loop.
func dial(path string, post func(func()), h socketHandlers) *socket {
	loc := global.Get("location")
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
	handle("onopen", func(js.Value) { post(h.open) })
	handle("onmessage", func(ev js.Value) {
		data := ev.Get("data")
		if data.Type() != js.TypeString {
			return // the protocol sends text frames only
		}
		text := data.String()
		post(func() { h.message(text) })
	})
	handle("onclose", func(ev js.Value) {
		code, reason := ev.Get("code").Int(), ev.Get("reason").String()
		s.release()
		post(func() { h.close(code, reason) })
	})
	return s
}

func (s *socket) send(text string) bool {
	if s == nil || s.ws.Get("readyState").Int() != 1 { // 1 is OPEN
		return false
	}
	s.ws.Call("send", text)
	return true
}

// close ends the socket without waiting; its close handler still runs.
func (s *socket) close(code int, reason string) {
	if s != nil {
		s.ws.Call("close", code, reason)
	}
}

func (s *socket) release() {
	for _, f := range s.funcs {
		f.Release()
	}
	s.funcs = nil
	s.ws.Set("onopen", js.Null())
	s.ws.Set("onmessage", js.Null())
	s.ws.Set("onclose", js.Null())
}
