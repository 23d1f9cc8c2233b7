package api

import (
	"net/http"
	"strings"

	"github.com/tokenlab/tokenlab/server/sdkconn"
)

// addRoutes lists every route the server answers. Wrong methods and unknown
// paths need no entry: New turns the mux's 405 (with Allow) and 404 into
// JSON error bodies.
func addRoutes(routes *http.ServeMux, d Deps) {
	// The token routes also answer pages at TOKENLAB_ALLOWED_ORIGINS
	// (cors.go), preflights included; every other route is same-origin.
	cors := allowCORS(d.Config.AllowedOrigins)
	forApps := func(pattern string, h http.Handler) {
		routes.Handle(pattern, cors(h))
		if len(d.Config.AllowedOrigins) > 0 {
			method, path, _ := strings.Cut(pattern, " ")
			routes.Handle("OPTIONS "+path, cors(notPreflight(d.Logger, method)))
		}
	}
	forApps("POST /token", handleToken(d.Logger, d.Users, d.Minter, newSignInGuard(d.Config, d.Now, d.Logger, d.Devices), d.Sessions, d.Hub))
	forApps("POST /token/verify", handleVerify(d.Logger, d.Minter, d.Now))
	// Cookie-authenticated state changes: CrossOriginProtection (api.go)
	// refuses other sites, and jsonOnly refuses bodies a form could send.
	noBody := jsonOnly(d.Logger)
	forApps("POST /token/refresh", noBody(handleRefresh(d.Logger, d.Sessions, d.Hub)))
	forApps("POST /logout", noBody(handleLogout(d.Logger, d.Sessions, d.Hub)))
	routes.Handle("GET /ws", handleWS(d.Logger, d.Sessions, d.Hub, d.Config.AllowedOrigins))
	twilsock := sdkconn.New(sdkconn.Options{Minter: d.Minter, Lead: d.Config.WarnLead, Jitter: d.Jitter, Logger: d.Logger, Directory: d.SDK})
	voice := sdkconn.NewVoice(sdkconn.Options{Minter: d.Minter, Jitter: d.Jitter, Logger: d.Logger, Directory: d.SDK})
	routes.Handle("GET /v3/wsconnect", twilsock)
	routes.Handle("GET /signal", voice)
	sdk := sdkLabs{twilsock, voice} // the lab's faults reach the SDKs' sockets too
	// Operator routes: same-origin whatever TOKENLAB_ALLOWED_ORIGINS says.
	sameOrigin, auth := operatorSameOrigin(d.Logger), requireAdmin(d.Logger, d.Config.AdminToken)
	admin := func(h http.Handler) http.Handler { return sameOrigin(auth(h)) }
	routes.Handle("GET /admin/sessions", admin(handleAdminSessions(d.Hub, d.SDK)))
	routes.Handle("POST /admin/sessions/{id}/revoke", admin(noBody(handleAdminRevoke(d.Logger, d.Sessions, d.Hub, sdk))))
	// The lab: the same faults for an operator (any session) and for a
	// page (its own, by cookie, with /token/refresh's origin rules).
	lab := labOn(d.Config.Lab, d.Logger)
	for _, name := range labNames {
		routes.Handle("POST /admin/sessions/{id}/"+name, admin(lab(noBody(handleAdminLab(d.Logger, d.Hub, sdk, name)))))
		forApps("POST /lab/"+name, lab(noBody(handleOwnLab(d.Logger, d.Sessions, d.Hub, sdk, name))))
	}
	forApps("GET /healthz", handleHealth())
	routes.Handle("GET /", d.Web)
}
