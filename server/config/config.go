// Package config reads tokenlab's configuration from the environment (which
// main fills from .env first) and from command-line flags, which win. It
// supplies the built-in demo account when no Twilio credentials are set and
// refuses a partial or malformed configuration with an error that names the
// variable and what it expects.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Variable names.
const (
	EnvAccountSID      = "TWILIO_ACCOUNT_SID"
	EnvAPIKeySID       = "TWILIO_API_KEY_SID"
	EnvAPIKeySecret    = "TWILIO_API_KEY_SECRET"
	EnvRegion          = "TWILIO_REGION"
	EnvPort            = "PORT"
	EnvHost            = "TOKENLAB_HOST"
	EnvUsersFile       = "TOKENLAB_USERS_FILE"
	EnvSessionKey      = "TOKENLAB_SESSION_KEY"
	EnvSessionLifetime = "TOKENLAB_SESSION_LIFETIME"
	EnvWarnLead        = "TOKENLAB_WARN_LEAD"
	EnvAllowedOrigins  = "TOKENLAB_ALLOWED_ORIGINS"
	EnvAllowedHosts    = "TOKENLAB_ALLOWED_HOSTS"
	EnvAdminToken      = "TOKENLAB_ADMIN_TOKEN"
	EnvStateDir        = "TOKENLAB_STATE_DIR"
	EnvSignInLimitAddr = "TOKENLAB_SIGNIN_LIMIT_ADDR"
	EnvSignInLimitUser = "TOKENLAB_SIGNIN_LIMIT_USER"
	EnvLogLevel        = "TOKENLAB_LOG_LEVEL"
	EnvTLS             = "TOKENLAB_TLS"
	EnvTLSCert         = "TOKENLAB_TLS_CERT"
	EnvTLSKey          = "TOKENLAB_TLS_KEY"
	EnvLab             = "TOKENLAB_LAB"
)

// Defaults.
const (
	DefaultPort = 8080
	// DefaultHost keeps a fresh server off the network: set TOKENLAB_HOST
	// to 0.0.0.0 (or an interface's address) to expose it.
	DefaultHost            = "127.0.0.1"
	DefaultSessionLifetime = 12 * time.Hour
	DefaultWarnLead        = renew.DefaultLead
)

// Default sign-in limits: failed attempts (wrong password or unknown
// user) allowed per client address and per username. A burst of N, then
// one more every Per/N. See Limit.
var (
	DefaultSignInLimitAddr = Limit{N: 20, Per: time.Minute}
	DefaultSignInLimitUser = Limit{N: 10, Per: 15 * time.Minute}
)

// The demo account: SIDs of the right shape that are visibly not real, so
// the page and the CLI work out of the box. Twilio rejects its tokens.
const (
	DemoAccountSID = "AC00000000000000000000000000000000"
	DemoAPIKeySID  = "SK00000000000000000000000000000000"
	demoSecret     = "tokenlab-demo-secret-twilio-rejects-these-tokens"
)

// Limits enforced on the values.
const (
	MinSessionKeyLen   = 32
	MinAdminTokenLen   = 16
	MaxSessionLifetime = 30 * 24 * time.Hour
	MaxWarnLead        = time.Hour
)

// Config is the validated configuration.
type Config struct {
	// Twilio signs tokens. With no TWILIO_* variables set it holds the demo
	// account and Demo is true.
	Twilio mint.Credentials
	Demo   bool

	// Host is the address to listen on: 127.0.0.1 by default, 0.0.0.0 (or
	// ::) for every interface.
	Host string
	// Port is the TCP port to listen on; 0 picks a free one.
	Port int
	// UsersFile is the users file; empty means open demo mode.
	UsersFile string

	// SessionKey is TOKENLAB_SESSION_KEY, the secret session cookies are
	// sealed with. Unset, the sealing key is derived from the API key
	// secret instead (SessionKeyDerived), or random for the demo account,
	// whose secret is public (server/assemble).
	SessionKey        Key
	SessionKeyDerived bool
	// SessionLifetime is a session's absolute lifetime.
	SessionLifetime time.Duration
	// WarnLead is how long before expiry "expiring" notices are sent.
	WarnLead time.Duration
	// AllowedOrigins are extra origins trusted for cross-origin requests and
	// WebSocket upgrades, as scheme://host[:port].
	AllowedOrigins []string
	// AllowedHosts are the host names, besides localhost and TOKENLAB_HOST,
	// that requests may be addressed to (their Host header), in lower case
	// without a trailing dot. An entry with a leading dot (".example.com")
	// allows the name and every name under it. IP addresses are always
	// allowed: they cannot be rebound.
	AllowedHosts []string
	// AdminToken enables the operator endpoints when set.
	AdminToken mint.Secret
	// StateDir, when set, keeps the session revocation list on disk so
	// that a restart does not forget logouts.
	StateDir string
	// SignInLimitAddr and SignInLimitUser bound failed sign-ins per client
	// address and per username. Load fills in the defaults; the zero Limit
	// (a Config built by hand) means no limit.
	SignInLimitAddr Limit
	SignInLimitUser Limit
	// LogLevel is the least severe log line written. The default, info,
	// leaves out the one line per successful request (logged at debug):
	// formatting and writing it was the largest cost of a renewal.
	LogLevel slog.Level
	// TLS says the server speaks HTTPS and WSS: with TLSCert and TLSKey
	// when given, else with a self-signed certificate for its names.
	TLS             bool
	TLSCert, TLSKey string
	// Lab enables the lab's fault routes (expire now, fail renewals, skew,
	// drop…): TOKENLAB_LAB, on by default in open demo mode only.
	Lab bool
	// CoalesceWindow is how long after a session's last mint a renewal gets
	// that token rather than a new one; hub.DefaultCoalesceWindow when zero.
	// It is not read from the environment: make bench narrows it so that
	// its minting run really mints on every request.
	CoalesceWindow time.Duration
}

// Limit allows N events per Per: a burst of N, refilled at N/Per. The
// zero Limit allows everything.
type Limit struct {
	N   int
	Per time.Duration
}

// Off reports whether the limit allows everything.
func (l Limit) Off() bool { return l.N <= 0 || l.Per <= 0 }

func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	return fmt.Sprintf("%d/%v", l.N, l.Per)
}

// MaxLimitN bounds a limit's burst; more than this many guesses at once
// is not a limit.
const MaxLimitN = 1_000_000

// ParseLimit reads "N/DURATION" (e.g. "20/1m") or "off".
func ParseLimit(s string) (Limit, error) {
	if strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 || count > MaxLimitN {
		return Limit{}, fmt.Errorf("must be N/DURATION with N from 1 to %d (e.g. 20/1m), or off, got %q", MaxLimitN, s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d < time.Second || d > 24*time.Hour {
		return Limit{}, fmt.Errorf("must be N/DURATION with DURATION from 1s to 24h (e.g. 20/1m), or off, got %q", s)
	}
	return Limit{N: count, Per: d}, nil
}

// Error names a variable and what is wrong with it.
type Error struct {
	Var     string
	Problem string
}

func (e *Error) Error() string { return e.Var + " " + e.Problem }

// ErrInvalid is wrapped by every *Error.
var ErrInvalid = errors.New("invalid configuration")

func (e *Error) Unwrap() error { return ErrInvalid }

// Key is secret key material: printed as [redacted] everywhere.
type Key []byte

func (k Key) String() string               { return "[redacted]" }
func (k Key) GoString() string             { return "[redacted]" }
func (k Key) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (k Key) Format(f fmt.State, _ rune)   { fmt.Fprint(f, "[redacted]") }
func (k Key) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Load reads the configuration through getenv (use Overrides.Getenv to let
// flags win) and validates it. All problems are reported together.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, &Error{Var: name, Problem: fmt.Sprintf(format, args...)})
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	// Twilio credentials: all three or none.
	acct, key, secret := get(EnvAccountSID), get(EnvAPIKeySID), getenv(EnvAPIKeySecret)
	switch {
	case acct == "" && key == "" && secret == "":
		c.Demo = true
		c.Twilio = mint.Credentials{AccountSID: DemoAccountSID, APIKeySID: DemoAPIKeySID, APIKeySecret: demoSecret}
	default:
		for _, v := range []struct{ name, val string }{{EnvAccountSID, acct}, {EnvAPIKeySID, key}, {EnvAPIKeySecret, secret}} {
			if v.val == "" {
				bad(v.name, "is not set: set %s, %s and %s together (from the Twilio console), or none of them to use the demo account", EnvAccountSID, EnvAPIKeySID, EnvAPIKeySecret)
			}
		}
		if acct != "" && !token.ValidSID(token.PrefixAccount, acct) {
			bad(EnvAccountSID, "must be AC followed by 32 hex digits (34 characters), got %s", describe(acct))
		}
		if key != "" && !token.ValidSID(token.PrefixAPIKey, key) {
			bad(EnvAPIKeySID, "must be an API key SID: SK followed by 32 hex digits (34 characters), got %s", describe(key))
		}
		if secret != "" && strings.TrimSpace(secret) != secret {
			// Never echo the secret, not even in part.
			bad(EnvAPIKeySecret, "has leading or trailing white space: copy the secret exactly")
		}
		c.Twilio = mint.Credentials{AccountSID: acct, APIKeySID: key, APIKeySecret: mint.Secret(secret)}
	}
	if r := get(EnvRegion); r != "" {
		c.Twilio.Region = r
		if !mint.ValidRegion(r) {
			bad(EnvRegion, "must be a Twilio region code such as us1, ie1 or au1, got %q", r)
		}
	}

	c.Port = DefaultPort
	if p := get(EnvPort); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			bad(EnvPort, "must be a TCP port number from 0 to 65535, got %q", p)
		}
		c.Port = n
	}
	c.Host = DefaultHost
	if h := get(EnvHost); h != "" {
		if err := checkHost(h); err != nil {
			bad(EnvHost, "%v", err)
		}
		c.Host = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	c.UsersFile = get(EnvUsersFile)

	if k := get(EnvSessionKey); k != "" {
		b, err := parseKey(k)
		if err != nil {
			bad(EnvSessionKey, "%v", err)
		}
		c.SessionKey = b
	} else {
		// The session key is then derived from the API key secret
		// (server/assemble). The demo secret is public, so the demo
		// account gets a random key instead.
		c.SessionKeyDerived = secret != ""
	}

	c.SessionLifetime = duration(get, bad, EnvSessionLifetime, DefaultSessionLifetime, time.Minute, MaxSessionLifetime)
	c.WarnLead = duration(get, bad, EnvWarnLead, DefaultWarnLead, time.Second, MaxWarnLead)

	if o := get(EnvAllowedOrigins); o != "" {
		for _, origin := range strings.Split(o, ",") {
			origin = strings.TrimSpace(origin)
			if origin == "" {
				continue
			}
			if err := checkOrigin(origin); err != nil {
				bad(EnvAllowedOrigins, "has %q: %v", origin, err)
				continue
			}
			// Browsers send an origin in lower case, and it is matched
			// exactly: HTTP://LOCALHOST:3000 means http://localhost:3000.
			c.AllowedOrigins = append(c.AllowedOrigins, strings.ToLower(strings.TrimSuffix(origin, "/")))
		}
	}
	if hs := get(EnvAllowedHosts); hs != "" {
		for _, h := range strings.Split(hs, ",") {
			h = strings.TrimSpace(h)
			if h == "" {
				continue
			}
			name, err := checkAllowedHost(h)
			if err != nil {
				bad(EnvAllowedHosts, "has %q: %v", h, err)
				continue
			}
			c.AllowedHosts = append(c.AllowedHosts, name)
		}
	}
	if t := getenv(EnvAdminToken); t != "" {
		if len(t) < MinAdminTokenLen {
			bad(EnvAdminToken, "must be at least %d characters (it is %d): use a long random value, e.g. `openssl rand -hex 32`", MinAdminTokenLen, len(t))
		}
		c.AdminToken = mint.Secret(t)
	}
	c.StateDir = get(EnvStateDir)
	c.SignInLimitAddr = limit(get, bad, EnvSignInLimitAddr, DefaultSignInLimitAddr)
	c.SignInLimitUser = limit(get, bad, EnvSignInLimitUser, DefaultSignInLimitUser)
	if v := get(EnvLogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad(EnvLogLevel, "must be debug, info, warn or error, got %s", describe(v))
		}
	}
	c.TLSCert, c.TLSKey = get(EnvTLSCert), get(EnvTLSKey)
	switch v := get(EnvTLS); v {
	case "", "off":
		c.TLS = c.TLSCert != "" || c.TLSKey != ""
	case "on", "self-signed":
		c.TLS = true
	default:
		bad(EnvTLS, "must be off, on or self-signed, got %s", describe(v))
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		bad(EnvTLSCert, "and %s go together: set both (a PEM certificate chain and its key) or neither, for a self-signed certificate", EnvTLSKey)
	case get(EnvTLS) == "off" && c.TLSCert != "":
		bad(EnvTLS, "is off but %s is set: remove one", EnvTLSCert)
	case get(EnvTLS) == "self-signed" && c.TLSCert != "":
		bad(EnvTLS, "asks for a self-signed certificate but %s names one: remove one", EnvTLSCert)
	}
	switch v := get(EnvLab); v {
	case "":
		c.Lab = c.UsersFile == ""
	case "on":
		c.Lab = true
	case "off":
	default:
		bad(EnvLab, "must be on or off, got %s", describe(v))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// describe quotes a value for an error message, or says it is empty.
func describe(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q (%d characters)", s, len(s))
}

func duration(get func(string) string, bad func(string, string, ...any), name string, def, lo, hi time.Duration) time.Duration {
	v := get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		bad(name, "must be a Go duration from %v to %v (e.g. %v), got %q", lo, hi, def, v)
		return def
	}
	return d
}

func limit(get func(string) string, bad func(string, string, ...any), name string, def Limit) Limit {
	v := get(name)
	if v == "" {
		return def
	}
	l, err := ParseLimit(v)
	if err != nil {
		bad(name, "%v", err)
		return def
	}
	return l
}

// checkHost accepts an IP address (IPv6 with or without brackets) or a
// host name, without a port.
func checkHost(h string) error {
	const example = "an address to listen on, such as 127.0.0.1, 0.0.0.0, ::1 or localhost"
	bare := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if net.ParseIP(bare) != nil {
		return nil
	}
	if strings.ContainsAny(h, ":[]/ ") || len(h) > 253 {
		return fmt.Errorf("must be %s (without a port: set PORT), got %s", example, describe(h))
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("must be %s, got %s", example, describe(h))
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("must be %s, got %s", example, describe(h))
			}
		}
	}
	return nil
}

// checkAllowedHost accepts a host name as a browser sends it in the Host
// header, without a port, optionally with a leading dot for every name
// under it, and returns it in lower case without a trailing dot. An IP
// address is accepted too, though it is always allowed anyway.
func checkAllowedHost(h string) (string, error) {
	const example = "must be a host name without scheme or port, such as tokenlab.example.com, or .example.com for every name under example.com"
	bare := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if net.ParseIP(bare) != nil {
		return strings.ToLower(bare), nil
	}
	name := strings.TrimSuffix(strings.ToLower(h), ".")
	labels := strings.TrimPrefix(name, ".")
	if labels == "" || len(labels) > 253 {
		return "", errors.New(example)
	}
	if strings.Contains(labels, "*") {
		return "", errors.New("has a wildcard: write .example.com to allow every name under example.com")
	}
	if strings.ContainsAny(labels, ":/") {
		return "", errors.New(example)
	}
	for _, r := range labels {
		if r > 127 {
			return "", errors.New("is not ASCII: write an international name in its xn-- form, as browsers send it")
		}
	}
	if last := labels[strings.LastIndexByte(labels, '.')+1:]; strings.Trim(last, "0123456789") == "" {
		return "", errors.New("is neither a name (no top-level domain is a number) nor an IP address: IP addresses are always allowed, list names only")
	}
	for _, label := range strings.Split(labels, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", errors.New(example)
		}
		for _, r := range label {
			// Underscores are not valid in DNS host names, but container
			// names (docker compose services) have them and browsers and
			// Go's server accept them in Host.
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", errors.New(example)
			}
		}
	}
	return name, nil
}

// ListenAddr is the host:port to listen on.
func (c Config) ListenAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// parseKey reads hex or base64 (standard or URL alphabet, padded or not).
func parseKey(s string) (Key, error) {
	var b []byte
	if h, err := hex.DecodeString(s); err == nil {
		b = h
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(s); err == nil {
				b = d
				break
			}
		}
		if b == nil {
			return nil, errors.New("must be hex or base64, e.g. the output of `openssl rand -hex 32`")
		}
	}
	if len(b) < MinSessionKeyLen {
		return nil, fmt.Errorf("must decode to at least %d bytes, got %d: e.g. `openssl rand -hex 32`", MinSessionKeyLen, len(b))
	}
	return Key(b), nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("an origin is scheme://host[:port], e.g. https://app.example.com")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("an origin has no path, query or user, e.g. https://app.example.com")
	}
	if strings.Contains(u.Host, "*") {
		return errors.New("origins are matched exactly, with no wildcard: list each one, e.g. https://app.example.com,https://admin.example.com")
	}
	return nil
}

// flagNames maps the variables that may also be given as flags. Secrets
// have no flag: command lines end up in shell history and ps output.
var flagNames = map[string]string{
	EnvAccountSID:      "account-sid",
	EnvAPIKeySID:       "api-key-sid",
	EnvRegion:          "region",
	EnvPort:            "port",
	EnvHost:            "host",
	EnvUsersFile:       "users-file",
	EnvSessionLifetime: "session-lifetime",
	EnvWarnLead:        "warn-lead",
	EnvAllowedOrigins:  "allowed-origins",
	EnvAllowedHosts:    "allowed-hosts",
	EnvStateDir:        "state-dir",
	EnvSignInLimitAddr: "signin-limit-addr",
	EnvSignInLimitUser: "signin-limit-user",
	EnvLogLevel:        "log-level",
	EnvTLS:             "tls",
	EnvTLSCert:         "tls-cert",
	EnvTLSKey:          "tls-key",
	EnvLab:             "lab",
}

// FlagName returns the flag that overrides the variable name, or "".
func FlagName(name string) string { return flagNames[name] }

// Overrides holds the flags a command line set explicitly.
type Overrides map[string]string

// Bind registers on fs one flag per variable in names (all that have a flag
// when names is empty) and returns the overrides they fill once fs is parsed.
func Bind(fs *flag.FlagSet, names ...string) Overrides {
	o := Overrides{}
	if len(names) == 0 {
		for n := range flagNames {
			names = append(names, n)
		}
	}
	for _, name := range names {
		flagName, ok := flagNames[name]
		if !ok {
			panic("config: no flag for " + name)
		}
		fs.Func(flagName, "overrides $"+name, func(v string) error {
			o[name] = v
			return nil
		})
	}
	return o
}

// Getenv returns a getenv that answers from the flags first, then next.
func (o Overrides) Getenv(next func(string) string) func(string) string {
	return func(name string) string {
		if v, ok := o[name]; ok {
			return v
		}
		return next(name)
	}
}

// LogAttrs describes the configuration for the start-up log, without secrets.
func (c Config) LogAttrs() []any {
	return []any{
		slog.String("account_sid", c.Twilio.AccountSID),
		slog.String("api_key_sid", c.Twilio.APIKeySID),
		slog.String("region", c.Twilio.Region),
		slog.Bool("demo_account", c.Demo),
		slog.String("users_file", c.UsersFile),
		slog.Bool("session_key_derived", c.SessionKeyDerived),
		slog.Duration("session_lifetime", c.SessionLifetime),
		slog.Duration("warn_lead", c.WarnLead),
		slog.Any("allowed_origins", c.AllowedOrigins),
		slog.Any("allowed_hosts", c.AllowedHosts),
		slog.Bool("admin_enabled", c.AdminToken != ""),
		slog.String("state_dir", c.StateDir),
		slog.String("host", c.Host),
		slog.String("signin_limit_addr", c.SignInLimitAddr.String()),
		slog.String("signin_limit_user", c.SignInLimitUser.String()),
		slog.String("log_level", c.LogLevel.String()),
		slog.Bool("tls", c.TLS),
		slog.String("tls_cert", c.TLSCert),
		slog.Bool("lab", c.Lab),
	}
}
