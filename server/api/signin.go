package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/throttle"
)

// signInGuard slows password guessing: failed sign-ins are counted per
// client address and per username (config.Config.SignInLimitAddr and
// SignInLimitUser), and once either runs out the server answers 429
// without checking the password. Successful sign-ins cost nothing. An
// unknown username counts like a known one, so the limits reveal nothing
// about which users exist.
type signInGuard struct {
	addr, user *throttle.Limiter
	log        *slog.Logger
}

func newSignInGuard(cfg config.Config, now func() time.Time, log *slog.Logger) *signInGuard {
	return &signInGuard{
		addr: throttle.New(cfg.SignInLimitAddr.N, cfg.SignInLimitAddr.Per, 0, now),
		user: throttle.New(cfg.SignInLimitUser.N, cfg.SignInLimitUser.Per, 0, now),
		log:  log,
	}
}

// check refuses a sign-in whose address or username has no attempts
// left: a 429 with Retry-After.
func (g *signInGuard) check(w http.ResponseWriter, r *http.Request, username string) error {
	addr := throttle.AddressKey(r.RemoteAddr)
	wait, ok := g.addr.Check(addr)
	what := "from this address"
	if ok {
		wait, ok = g.user.Check(username)
		what = "for this username"
	}
	if ok {
		return nil
	}
	after := throttle.RetryAfter(wait)
	g.log.WarnContext(r.Context(), "sign-in refused: too many failures "+what,
		"username", username, "client", addr, "retry_after_s", after)
	w.Header().Set("Retry-After", strconv.Itoa(after))
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
		Message: "too many failed sign-ins " + what + ": try again in " + strconv.Itoa(after) + " s (see Retry-After)"}
}

// failed counts a failed sign-in and logs it, without the password.
func (g *signInGuard) failed(r *http.Request, username string) {
	addr := throttle.AddressKey(r.RemoteAddr)
	g.addr.Fail(addr)
	g.user.Fail(username)
	g.log.WarnContext(r.Context(), "sign-in failed: wrong username or password", "username", username, "client", addr)
}
