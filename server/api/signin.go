package api

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/device"
	"github.com/tokenlab/tokenlab/server/lowpriority"
	"github.com/tokenlab/tokenlab/server/throttle"
	"github.com/tokenlab/tokenlab/server/users"
)

// MaxPasswordChecks is how many password checks run at once: one core is
// left for renewals, sockets and /healthz, since a bcrypt check holds a
// core for tens of milliseconds.
func MaxPasswordChecks() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// PasswordCheckWait is how long a sign-in waits for a free password check
// before it is refused with 503 and Retry-After: long enough to absorb a
// burst of real sign-ins, short enough that a flood never hangs a client.
const PasswordCheckWait = 2 * time.Second

// passwordHashing runs the checks on threads the kernel schedules after
// the rest of the process, so that the checks running take what renewals,
// sockets and /healthz leave. The threads are the process's: a lowered
// priority cannot be raised again, so they are started once and kept.
var passwordHashing = sync.OnceValue(func() *lowpriority.Pool { return lowpriority.New(MaxPasswordChecks()) })

// signInGuard slows password guessing. Each attempt is taken from its
// limits before the password is checked and given back when it succeeds,
// so that only failures count and no more than a limit's burst of checks
// ever runs for one key, however many attempts arrive together. The limits
// are per client address and per username (config.Config.SignInLimitAddr
// and SignInLimitUser), or, for a browser carrying a valid device cookie
// for that username, per device only (package device): failures from
// elsewhere cannot lock a user out of a browser they signed in from
// before. An unknown username counts like a known one, so the limits
// reveal nothing about which users exist. At most MaxPasswordChecks
// checks run at once, so that a flood of sign-ins cannot starve the rest.
type signInGuard struct {
	addr, user, device *throttle.Limiter
	devices            *device.Cookies
	checks             chan struct{} // one token per running check
	log                *slog.Logger
	// busyLog lets one "too many password checks" line a second into the
	// log: a flood would otherwise write one per refused request.
	busyLog shedLog
}

func newSignInGuard(cfg config.Config, now func() time.Time, log *slog.Logger, devices *device.Cookies) *signInGuard {
	return &signInGuard{
		addr:    throttle.New(cfg.SignInLimitAddr.N, cfg.SignInLimitAddr.Per, 0, now),
		user:    throttle.New(cfg.SignInLimitUser.N, cfg.SignInLimitUser.Per, 0, now),
		device:  throttle.New(cfg.SignInLimitUser.N, cfg.SignInLimitUser.Per, 0, now),
		devices: devices,
		checks:  make(chan struct{}, MaxPasswordChecks()),
		log:     log,
	}
}

// limit is one bucket an attempt is taken from.
type limit struct {
	lim       *throttle.Limiter
	key, what string
}

// authenticate checks username and password within the limits: a 429
// with Retry-After when a limit has no attempts left, a 503 with
// Retry-After when no password check came free in time. A success sets a
// fresh device cookie.
func (g *signInGuard) authenticate(w http.ResponseWriter, r *http.Request, auth users.Authenticator, username, password string) (users.User, error) {
	addr := throttle.AddressKey(r.RemoteAddr)
	id, trusted := g.devices.FromRequest(r, username)
	limits := []limit{{g.addr, addr, "from this address"}, {g.user, username, "for this username"}}
	if trusted {
		limits = []limit{{g.device, id, "from this browser"}}
	}
	for i, l := range limits {
		if wait, ok := l.lim.Take(l.key); !ok {
			giveBack(limits[:i])
			after := throttle.RetryAfter(wait)
			g.log.WarnContext(r.Context(), "sign-in refused: too many failures "+l.what,
				"username", username, "client", addr, "retry_after_s", after)
			w.Header().Set("Retry-After", strconv.Itoa(after))
			return users.User{}, &Error{Code: CodeRateLimited,
				Message: "too many failed sign-ins " + l.what + ": try again in " + strconv.Itoa(after) + " s (see Retry-After)"}
		}
	}
	if err := g.startCheck(r.Context()); err != nil {
		giveBack(limits)
		if skipped, ok := g.busyLog.admit(time.Now()); ok {
			g.log.WarnContext(r.Context(), "sign-in refused: too many password checks at once",
				"username", username, "client", addr, "running", cap(g.checks), "refusals_not_logged", skipped)
		}
		w.Header().Set("Retry-After", "1")
		return users.User{}, err
	}
	began := time.Now()
	var user users.User
	var err error
	passwordHashing().Do(func() { user, err = auth.Authenticate(r.Context(), username, password) })
	if errors.Is(err, users.ErrBadCredentials) {
		// A failed check keeps its slot as long again before the next may
		// start, without holding up this answer: a flood of guesses then
		// takes at most half of its cores' time, and renewals keep the
		// rest. A right password frees the slot at once.
		time.AfterFunc(time.Since(began), func() { <-g.checks })
	} else {
		<-g.checks
	}
	switch {
	case err == nil:
		giveBack(limits)
		g.devices.Set(w, r, username)
	case errors.Is(err, users.ErrBadCredentials):
		g.log.WarnContext(r.Context(), "sign-in failed: wrong username or password",
			"username", username, "client", addr, "known_browser", trusted)
	default:
		giveBack(limits) // not the client's failure
	}
	return user, err
}

// startCheck waits about PasswordCheckWait, and no longer than the
// request, for one of the password checks to come free.
func (g *signInGuard) startCheck(ctx context.Context) error {
	select {
	case g.checks <- struct{}{}:
		return nil
	default:
	}
	// The wait is spread between half and one and a half times
	// PasswordCheckWait: a flood's requests arrive together, and refusing
	// them all in the same instant sends them all back in the next, a wave
	// that holds up everything else the server does at that moment.
	t := time.NewTimer(PasswordCheckWait/2 + rand.N(PasswordCheckWait))
	defer t.Stop()
	select {
	case g.checks <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return &Error{Code: CodeBusy,
		Message: "the server is checking too many passwords at once: try again in 1 s (see Retry-After)"}
}

func giveBack(limits []limit) {
	for _, l := range limits {
		l.lim.Give(l.key)
	}
}
