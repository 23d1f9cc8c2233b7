// Package api is tokenlab's HTTP interface: POST /token and its friends, the
// page, and the error→status mapping every handler shares. routes.go lists
// every route; handlers are makers that take their dependencies and return
// an http.Handler.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/device"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/token"
)

// MaxBodyBytes bounds every request body; larger bodies get 413.
const MaxBodyBytes = 64 << 10

// Deps are the handlers' dependencies, all required: server/assemble
// builds them.
type Deps struct {
	// Config is the validated configuration (origins, session settings…).
	Config config.Config
	// Logger receives request logs and internal errors.
	Logger *slog.Logger
	// Now is the clock.
	Now func() time.Time
	// Web serves the page.
	Web http.Handler
	// Minter signs and verifies tokens.
	Minter *mint.Minter
	// Users checks credentials: a *users.Live, *users.File or users.OpenDemo.
	Users users.Authenticator
	// Sessions seals session cookies.
	Sessions *session.Manager
	// Hub tracks live sessions and their sockets. Whoever runs the server
	// calls Hub.Shutdown when it stops.
	Hub *hub.Hub
	// Devices signs the cookies of browsers that signed in before.
	Devices *device.Cookies
	// Jitter, when set, draws the SDK connections' warning jitter in
	// [0, max] instead of uniformly (the bench fixes it to know each
	// warning's due time).
	Jitter func(max time.Duration) time.Duration
	// SDK lists the Twilio SDK connections (twilsock and Voice) for
	// operators and, through the hub, for pages; nil keeps no list.
	SDK *sdkconn.Directory
}

// DefaultGrants are given when a sign-in asks for none: the tutorial's
// video room.
func DefaultGrants() token.Grants {
	return token.Grants{Video: &token.VideoGrant{Room: "My Room"}}
}

// New returns the whole HTTP handler: routes behind the shared middleware.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil || d.Now == nil || d.Web == nil || d.Minter == nil || d.Users == nil ||
		d.Sessions == nil || d.Hub == nil || d.Devices == nil {
		return nil, errors.New("api: every field of Deps is required (server/assemble builds them)")
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range d.Config.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvAllowedOrigins, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, d.Logger, &Error{Code: CodeCrossOrigin,
			Message: "cross-origin request refused: call the API from the page it serves, or add your origin to TOKENLAB_ALLOWED_ORIGINS"})
	}))
	routes := http.NewServeMux()
	addRoutes(routes, d)
	h := unrouted(routes, d.Logger)
	h = cop.Handler(h)
	h = secureHeaders(h)
	h = recoverPanics(d.Logger)(h)
	h = logRequests(d.Logger)(h)
	// Outermost: a request for a name the server does not answer for
	// (DNS rebinding) reaches nothing, not even the request log.
	h = allowHosts(d.Logger, newHostSet(d.Config))(h)
	return h, nil
}
