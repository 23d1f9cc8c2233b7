package api

import (
	"net/http"
	"strings"
)

// router is the server's ServeMux with a table of its exact routes, such
// as "POST /token/refresh": a request for one of them is served without
// the mux's pattern matching, which cost 1.3 µs of a renewal under figure
// 2's load (docs/benchmarks.md). Every other request, and every detail of
// routing, is the mux's.
type router struct {
	mux *http.ServeMux
	// exact maps a method and a path to the route the mux has for them.
	exact map[string]map[string]route
}

type route struct {
	pattern string
	h       http.Handler
}

func newRouter() *router {
	return &router{mux: http.NewServeMux(), exact: map[string]map[string]route{}}
}

// Handle registers h for pattern on the mux, and in the table when the
// pattern names one method and one path: no host, no wildcard, no
// trailing slash (which would match a whole subtree).
func (rt *router) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, h)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "{}") || strings.HasSuffix(path, "/") {
		return
	}
	if rt.exact[method] == nil {
		rt.exact[method] = map[string]route{}
	}
	rt.exact[method][path] = route{pattern, h}
}

// lookup returns the exact route for r when it has one. The mux would pick
// the same: a registered path is clean, so a request for exactly that path
// is neither redirected nor matched by anything more specific. A path
// with escapes (RawPath set) is left to the mux, which matches on them.
// A HEAD request is too, though a GET route serves it.
func (rt *router) lookup(r *http.Request) (route, bool) {
	if r.URL.RawPath != "" {
		return route{}, false
	}
	found, ok := rt.exact[r.Method][r.URL.Path]
	return found, ok
}
