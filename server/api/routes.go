package api

import "net/http"

// addRoutes lists every route the server answers. Wrong methods and unknown
// paths need no entry: New turns the mux's 405 (with Allow) and 404 into
// JSON error bodies.
func addRoutes(mux *http.ServeMux, d Deps) {
	mux.Handle("POST /token", handleToken(d.Logger, d.Users, d.Minter, d.OnToken))
	mux.Handle("POST /token/verify", handleVerify(d.Logger, d.Minter, d.Now))
	mux.Handle("GET /healthz", handleHealth())
	mux.Handle("GET /", d.Web)
}
