package api

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/rs/cors"
)

// corsMaxAge is how long, in seconds, a browser may reuse a preflight's
// answer before asking again.
const corsMaxAge = 600

// allowCORS lets pages at the configured origins (TOKENLAB_ALLOWED_ORIGINS,
// matched exactly) call a route from their own origin, with the session
// cookie: it answers their preflights and adds the CORS headers to the
// real answers. Requests from any other origin pass through untouched, so
// they stay same-origin, and CrossOriginProtection still refuses their
// unsafe methods.
//
// github.com/rs/cors does the protocol: preflight validation, Vary, and
// never a wildcard with credentials. It is small, widely used and kept up,
// and the CORS rules it gets right (which headers a preflight may ask for,
// which answers must vary on what) are easy to get subtly wrong by hand.
func allowCORS(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(h http.Handler) http.Handler { return h }
	}
	c := cors.New(cors.Options{
		// A function, not AllowedOrigins: the library lower-cases those
		// and reads "*" in them as a pattern, while CrossOriginProtection
		// and the WebSocket check match exactly. One rule for all three.
		AllowOriginFunc:  func(o string) bool { return slices.Contains(origins, o) },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		AllowCredentials: true,
		// Date is how the page's program learns the server's clock
		// (countdowns, lint, the lab's skew); it is not safelisted, so a
		// page on another origin could not read it otherwise.
		ExposedHeaders: []string{"Date"},
		MaxAge:         corsMaxAge,
	})
	return func(h http.Handler) http.Handler {
		// An allowed origin reads the answer, so Cross-Origin-Resource-
		// Policy must let it: secureHeaders says same-origin for the rest.
		crossOrigin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" && slices.Contains(origins, o) {
				w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
			}
			h.ServeHTTP(w, r)
		})
		return c.Handler(crossOrigin)
	}
}

// notPreflight answers an OPTIONS request that is not a CORS preflight (the
// preflights never get this far): the route takes method, nothing else.
func notPreflight(log *slog.Logger, method string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", method+", OPTIONS")
		writeError(w, r, log, &Error{Code: CodeMethodNotAllowed,
			Message: r.URL.Path + " takes " + method + "; OPTIONS answers only CORS preflights from TOKENLAB_ALLOWED_ORIGINS"})
	})
}
