package api

import "net/http"

// addRoutes lists every route the server answers. Wrong methods and unknown
// paths need no entry: New turns the mux's 405 (with Allow) and 404 into
// JSON error bodies.
func addRoutes(mux *http.ServeMux, d Deps) {
	mux.Handle("POST /token", handleToken(d.Logger, d.Users, d.Minter, newSignInGuard(d.Config, d.Now, d.Logger), startSession(d, d.OnToken)))
	mux.Handle("POST /token/verify", handleVerify(d.Logger, d.Minter, d.Now))
	mux.Handle("POST /token/refresh", handleRefresh(d.Logger, d.Sessions, d.Hub))
	mux.Handle("POST /logout", handleLogout(d.Logger, d.Sessions, d.Hub))
	mux.Handle("GET /ws", handleWS(d.Logger, d.Sessions, d.Hub, d.Config.AllowedOrigins))
	admin := requireAdmin(d.Logger, d.Config.AdminToken)
	mux.Handle("GET /admin/sessions", admin(handleAdminSessions(d.Hub)))
	mux.Handle("POST /admin/sessions/{id}/revoke", admin(handleAdminRevoke(d.Logger, d.Sessions, d.Hub)))
	mux.Handle("GET /healthz", handleHealth())
	mux.Handle("GET /", d.Web)
}
