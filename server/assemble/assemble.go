// Package assemble builds tokenlab's server from its configuration: the
// minter, the session manager and its keys, the hub of live sessions, and
// the HTTP handler over them. It is the one place that fills in defaults;
// the packages it wires take what it built. bin/tokenlab's serve and the
// bench's server role both start here, and so do the API's tests.
package assemble

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/device"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/web"
)

// deviceKeyInfo names the device cookies' key among those derived from
// the session key.
const deviceKeyInfo = "tokenlab device cookie key v1"

// Options adjust what New builds; the zero value is bin/tokenlab's server.
type Options struct {
	// Now is the clock of every part; time.Now when nil.
	Now func() time.Time
	// Hub, when set, edits the hub's options before the hub is built
	// (tests shorten its limits or count its mints).
	Hub func(*hub.Options)
	// Jitter, when set, replaces the uniform jitter of every warning, the
	// hub's sessions' and the SDK connections' (the bench warns exactly at
	// the lead, so that a client knows each warning's due time).
	Jitter func(max time.Duration) time.Duration
}

// Server is an assembled server. Whoever serves Handler calls
// Hub.Shutdown when it stops, so that sockets hear 1001 going away.
type Server struct {
	Handler  http.Handler
	Hub      *hub.Hub
	Sessions *session.Manager
	Minter   *mint.Minter
}

// New builds the server cfg describes, signing users in with auth.
func New(cfg config.Config, log *slog.Logger, auth users.Authenticator, o Options) (*Server, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	minter, err := mint.New(cfg.Twilio, now)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	sessions, err := newSessions(cfg, log, now)
	if err != nil {
		return nil, err
	}
	// The SDK connections' directory tells the hub of each change, which
	// pushes it to the tabs of the same identity.
	sdk := sdkconn.NewDirectory()
	ho := hub.Options{
		SDKReplay: sdk.Replay,
		Mint: func(ctx context.Context, s session.Session) (mint.Minted, error) {
			ttl := time.Duration(s.TTL) * time.Second
			if skew := hub.MintSkew(ctx); skew != 0 {
				return minter.MintAt(now().Add(skew), s.Identity, s.Grants, ttl)
			}
			return minter.Mint(s.Identity, s.Grants, ttl)
		},
		Check:          func(s session.Session) error { return auth.Check(s.Identity, s.Credential, s.Grants) },
		Now:            now,
		Lead:           cfg.WarnLead,
		Revoked:        sessions.Revocations().Has,
		Logger:         log,
		CoalesceWindow: cfg.CoalesceWindow,
		Jitter:         o.Jitter,
	}
	if o.Hub != nil {
		o.Hub(&ho)
	}
	h := hub.New(ho)
	sdk.Watch(h.SDKChanged)
	handler, err := api.New(api.Deps{
		Config: cfg, Logger: log, Now: now, Web: web.Handler(),
		Minter: minter, Users: auth, Sessions: sessions, Hub: h,
		Devices: device.New(sessions.Subkey(deviceKeyInfo), now),
		Jitter:  o.Jitter,
		SDK:     sdk,
	})
	if err != nil {
		h.Shutdown()
		return nil, err
	}
	return &Server{Handler: handler, Hub: h, Sessions: sessions, Minter: minter}, nil
}

// newSessions builds the session manager: cookies sealed with a key
// derived from the session secret, the configured lifetime, and
// revocations kept in cfg.StateDir when one is set.
func newSessions(cfg config.Config, log *slog.Logger, now func() time.Time) (*session.Manager, error) {
	secret, err := sessionSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	key, err := session.DeriveKey(secret)
	if err != nil {
		return nil, err
	}
	lifetime := cfg.SessionLifetime
	if lifetime <= 0 {
		lifetime = config.DefaultSessionLifetime
	}
	rev := session.NewRevocations(now)
	if cfg.StateDir != "" {
		if rev, err = session.OpenRevocations(cfg.StateDir, now); err != nil {
			return nil, fmt.Errorf("%s: %w (the server keeps its revocation log there: give it a directory it can write)", config.EnvStateDir, err)
		}
	}
	// Remember as many opened cookies as the hub keeps sessions: each one
	// renews with the same cookie again and again.
	return session.NewManager(session.Options{Key: key, Lifetime: lifetime, Now: now, Revocations: rev, Remember: hub.DefaultMaxSessions})
}

// sessionSecret is what the session key is derived from: TOKENLAB_SESSION_KEY,
// else the API key secret. The demo account's secret is public in the
// source and would let anyone seal a session, so without a configured key
// the demo account gets a random secret instead, kept in the state
// directory when there is one (so sessions survive a restart) and for this
// process only otherwise.
func sessionSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	switch {
	case len(cfg.SessionKey) > 0:
		return cfg.SessionKey, nil
	case cfg.SessionKeyDerived:
		return []byte(cfg.Twilio.APIKeySecret.Reveal()), nil
	case cfg.StateDir == "":
		log.Info("session key: random for this process, so a restart signs everyone out; set " + config.EnvSessionKey + " or " + config.EnvStateDir + " to keep sessions")
		return session.RandomKey(), nil
	}
	k, err := session.StateKey(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvStateDir, err)
	}
	log.Info("session key: random, kept in the state directory", "file", filepath.Join(cfg.StateDir, session.KeyFile))
	return k, nil
}

// Users picks who signs in: the users file, watched for changes (serve
// polls it), or open demo mode when none is set.
func Users(cfg config.Config, log *slog.Logger) (users.Authenticator, error) {
	if cfg.UsersFile == "" {
		log.Warn("OPEN DEMO MODE: TOKENLAB_USERS_FILE is not set, so ANY non-empty username and password sign in, with every grant. Create users with `tokenlab useradd --file users.json NAME` and set TOKENLAB_USERS_FILE before exposing this server.")
		return users.OpenDemo{}, nil
	}
	f, err := users.Watch(cfg.UsersFile, log)
	if err != nil {
		return nil, err
	}
	log.Info("users file loaded; changes to it take effect within seconds", "path", f.Path(), "users", f.Len(), "poll", users.DefaultPollInterval)
	return f, nil
}
