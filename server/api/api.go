// Package api is tokenlab's HTTP interface: POST /token and its friends, the
// page, and the error→status mapping every handler shares. routes.go lists
// every route; handlers are makers that take their dependencies and return
// an http.Handler.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/token"
	"github.com/tokenlab/tokenlab/web"
)

// MaxBodyBytes bounds every request body; larger bodies get 413.
const MaxBodyBytes = 64 << 10

// Deps are the handlers' dependencies.
type Deps struct {
	// Config is the validated configuration (origins, session settings…).
	Config config.Config
	// Logger receives request logs and internal errors. Nil discards them.
	Logger *slog.Logger
	// Minter signs and verifies tokens. Required.
	Minter *mint.Minter
	// Users checks credentials: a *users.File or users.OpenDemo. Required.
	Users users.Authenticator
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Web serves the page; nil means web.Handler().
	Web http.Handler
	// OnToken, when set, runs after POST /token has minted a token and
	// before the answer is written: it may set headers (a session cookie)
	// and hand the token on (to the hub). An error fails the request.
	OnToken func(w http.ResponseWriter, r *http.Request, u users.User, m mint.Minted) error
	// Sessions seals session cookies; nil means one built by NewSessions
	// from Config.
	Sessions *session.Manager
	// Hub tracks live sessions and their sockets; nil means one built by
	// NewHub. Whoever runs the server calls Hub.Shutdown when it stops.
	Hub *hub.Hub
}

// DefaultGrants are given when a sign-in asks for none: the tutorial's
// video room.
func DefaultGrants() token.Grants {
	return token.Grants{Video: &token.VideoGrant{Room: "My Room"}}
}

// New returns the whole HTTP handler: routes behind the shared middleware.
func New(d Deps) http.Handler {
	if d.Minter == nil || d.Users == nil {
		panic("api: Deps.Minter and Deps.Users are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Web == nil {
		d.Web = web.Handler()
	}
	d = withSessionDefaults(d)
	routes := http.NewServeMux()
	addRoutes(routes, d)

	cop := http.NewCrossOriginProtection()
	for _, o := range d.Config.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			panic("api: config let through a bad origin: " + err.Error()) // config.Load checks the shape
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, d.Logger, &Error{Status: http.StatusForbidden, Code: CodeCrossOrigin,
			Message: "cross-origin request refused: call the API from the page it serves, or add your origin to TOKENLAB_ALLOWED_ORIGINS"})
	}))
	h := unrouted(routes, d.Logger)
	h = cop.Handler(h)
	h = secureHeaders(h)
	h = recoverPanics(d.Logger)(h)
	h = logRequests(d.Logger)(h)
	// Outermost: a request for a name the server does not answer for
	// (DNS rebinding) reaches nothing, not even the request log.
	h = allowHosts(d.Logger, newHostSet(d.Config))(h)
	return h
}
