package config_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/shared/renew"
)

const (
	acct   = "AC15c1737bf14064d2278d616face3f17f"
	key    = "SK21c17013f3face8fdc4e4623b0a9d2c1"
	secret = "real-looking-secret-value"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func full(extra map[string]string) map[string]string {
	m := map[string]string{config.EnvAccountSID: acct, config.EnvAPIKeySID: key, config.EnvAPIKeySecret: secret}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestLoadDefaultsAndDemo(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || c.Twilio.AccountSID != config.DemoAccountSID || c.Twilio.APIKeySID != config.DemoAPIKeySID || c.Twilio.APIKeySecret == "" {
		t.Errorf("demo account not used: %+v", c.Twilio)
	}
	if err := c.Twilio.Validate(); err != nil {
		t.Errorf("demo SIDs must be valid SIDs: %v", err)
	}
	if c.Port != 8080 || c.UsersFile != "" || c.SessionLifetime != 12*time.Hour || c.WarnLead != renew.DefaultLead {
		t.Errorf("defaults: %+v", c)
	}
	// The demo secret is public: no session key may come from it.
	if len(c.SessionKey) != 0 || c.SessionKeyDerived {
		t.Errorf("the demo account got a session key derived from its public secret (%d bytes)", len(c.SessionKey))
	}
}

func TestLoadFull(t *testing.T) {
	c, err := config.Load(env(full(map[string]string{
		config.EnvRegion: "ie1", config.EnvPort: "0", config.EnvUsersFile: "users.json",
		config.EnvSessionKey:      strings.Repeat("ab", 32),
		config.EnvSessionLifetime: "30m", config.EnvWarnLead: "10s",
		config.EnvAllowedOrigins: " https://a.example.com , HTTP://LocalHost:3000/ ,",
		config.EnvAdminToken:     "0123456789abcdef0123",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo || c.Twilio.AccountSID != acct || c.Twilio.APIKeySID != key || c.Twilio.APIKeySecret.Reveal() != secret || c.Twilio.Region != "ie1" {
		t.Errorf("twilio: %+v", c.Twilio)
	}
	if c.Port != 0 || c.UsersFile != "users.json" || c.SessionLifetime != 30*time.Minute || c.WarnLead != 10*time.Second {
		t.Errorf("values: %+v", c)
	}
	if hex.EncodeToString(c.SessionKey) != strings.Repeat("ab", 32) || c.SessionKeyDerived {
		t.Error("session key not taken from TOKENLAB_SESSION_KEY")
	}
	if fmt.Sprint(c.AllowedOrigins) != "[https://a.example.com http://localhost:3000]" {
		t.Errorf("origins = %q", c.AllowedOrigins)
	}
	if c.AdminToken.Reveal() != "0123456789abcdef0123" {
		t.Error("admin token")
	}
}

func TestSessionKeyForms(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	for _, enc := range []string{
		hex.EncodeToString(raw),
		"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=", // standard base64
		"-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s",  // URL alphabet, unpadded
	} {
		c, err := config.Load(env(map[string]string{config.EnvSessionKey: enc}))
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if !bytes.Equal(c.SessionKey, raw) {
			t.Errorf("%s decoded to %x", enc, []byte(c.SessionKey))
		}
	}
}

// TestDerivedSessionKey: without TOKENLAB_SESSION_KEY, real credentials
// say the key is to be derived from their secret (server/assemble derives
// it), and the configuration holds no key of its own.
func TestDerivedSessionKey(t *testing.T) {
	c, err := config.Load(env(full(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SessionKeyDerived || len(c.SessionKey) != 0 {
		t.Errorf("derived %v, key of %d bytes: want derived and no key", c.SessionKeyDerived, len(c.SessionKey))
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		want    string // part of the message
	}{
		{"only the account SID", map[string]string{config.EnvAccountSID: acct}, config.EnvAPIKeySID, "set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET together"},
		{"no secret", map[string]string{config.EnvAccountSID: acct, config.EnvAPIKeySID: key}, config.EnvAPIKeySecret, "is not set"},
		{"account SID prefix", full(map[string]string{config.EnvAccountSID: "AB" + acct[2:]}), config.EnvAccountSID, "AC followed by 32 hex digits"},
		{"account SID length", full(map[string]string{config.EnvAccountSID: acct[:20]}), config.EnvAccountSID, "(20 characters)"},
		{"key SID is an account SID", full(map[string]string{config.EnvAPIKeySID: acct}), config.EnvAPIKeySID, "SK followed by 32 hex digits"},
		{"secret with white space", full(map[string]string{config.EnvAPIKeySecret: " " + secret}), config.EnvAPIKeySecret, "white space"},
		{"region", map[string]string{config.EnvRegion: "Europe"}, config.EnvRegion, "us1"},
		{"port text", map[string]string{config.EnvPort: "http"}, config.EnvPort, "0 to 65535"},
		{"port too big", map[string]string{config.EnvPort: "70000"}, config.EnvPort, "0 to 65535"},
		{"session key short", map[string]string{config.EnvSessionKey: "abcd"}, config.EnvSessionKey, "at least 32 bytes"},
		{"session key garbage", map[string]string{config.EnvSessionKey: "not a key!"}, config.EnvSessionKey, "hex or base64"},
		{"session lifetime", map[string]string{config.EnvSessionLifetime: "12"}, config.EnvSessionLifetime, "duration"},
		{"session lifetime zero", map[string]string{config.EnvSessionLifetime: "0s"}, config.EnvSessionLifetime, "from 1m0s"},
		{"warn lead", map[string]string{config.EnvWarnLead: "-5s"}, config.EnvWarnLead, "duration"},
		{"origin with path", map[string]string{config.EnvAllowedOrigins: "https://a.example.com/app"}, config.EnvAllowedOrigins, "no path"},
		{"origin without scheme", map[string]string{config.EnvAllowedOrigins: "a.example.com"}, config.EnvAllowedOrigins, "scheme://host"},
		{"origin with a wildcard", map[string]string{config.EnvAllowedOrigins: "https://*.example.com"}, config.EnvAllowedOrigins, "no wildcard"},
		{"origin with a wildcard port", map[string]string{config.EnvAllowedOrigins: "http://localhost:*"}, config.EnvAllowedOrigins, "scheme://host"},
		{"admin token short", map[string]string{config.EnvAdminToken: "short"}, config.EnvAdminToken, "at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(tt.env))
			if err == nil {
				t.Fatal("Load accepted it")
			}
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tt.wantVar) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q should name %s and say %q", err, tt.wantVar, tt.want)
			}
			for _, v := range tt.env {
				if len(v) > 4 && v == tt.env[config.EnvAPIKeySecret] && strings.Contains(err.Error(), strings.TrimSpace(v)) {
					t.Errorf("error reveals the secret: %v", err)
				}
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := config.Load(env(map[string]string{config.EnvPort: "x", config.EnvWarnLead: "y"}))
	if err == nil || !strings.Contains(err.Error(), config.EnvPort) || !strings.Contains(err.Error(), config.EnvWarnLead) {
		t.Errorf("want both variables named, got %v", err)
	}
}

func TestFlagsWin(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ov := config.Bind(fs)
	if err := fs.Parse([]string{"--port", "9999", "--region", "de1"}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(ov.Getenv(env(map[string]string{config.EnvPort: "1234", config.EnvUsersFile: "u.json"})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9999 || c.Twilio.Region != "de1" || c.UsersFile != "u.json" {
		t.Errorf("port=%d region=%q users=%q", c.Port, c.Twilio.Region, c.UsersFile)
	}
	if fs.Lookup("api-key-secret") != nil {
		t.Error("secrets must not be flags")
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	c, err := config.Load(env(full(map[string]string{config.EnvAdminToken: "admin-token-0123456789", config.EnvSessionKey: strings.Repeat("cd", 32)})))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("start", c.LogAttrs()...)
	log.Info("whole", "config", c)
	out := buf.String() + fmt.Sprintf("%v %+v %#v", c, c, c)
	for _, s := range []string{secret, "admin-token-0123456789", string(c.SessionKey), hex.EncodeToString(c.SessionKey)} {
		if strings.Contains(out, s) {
			t.Errorf("%q printed in %s", s, out)
		}
	}
	if !strings.Contains(buf.String(), acct) {
		t.Error("the account SID should be logged")
	}
}

func TestHostAndSignInLimits(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "127.0.0.1" || c.ListenAddr() != "127.0.0.1:8080" {
		t.Errorf("default host %q, listen address %q: want loopback only", c.Host, c.ListenAddr())
	}
	if c.SignInLimitAddr != config.DefaultSignInLimitAddr || c.SignInLimitUser != config.DefaultSignInLimitUser ||
		c.SignInLimitAddr.Off() || c.SignInLimitUser.Off() {
		t.Errorf("default sign-in limits %v, %v", c.SignInLimitAddr, c.SignInLimitUser)
	}
	tests := []struct {
		host, want, addr string
	}{
		{"0.0.0.0", "0.0.0.0", "0.0.0.0:8080"},
		{"::", "::", "[::]:8080"},
		{"[::1]", "::1", "[::1]:8080"},
		{"localhost", "localhost", "localhost:8080"},
		{"tokenlab.internal", "tokenlab.internal", "tokenlab.internal:8080"},
	}
	for _, tt := range tests {
		c, err := config.Load(env(map[string]string{config.EnvHost: tt.host}))
		if err != nil || c.Host != tt.want || c.ListenAddr() != tt.addr {
			t.Errorf("TOKENLAB_HOST=%s: host %q, address %q, %v; want %q, %q", tt.host, c.Host, c.ListenAddr(), err, tt.want, tt.addr)
		}
	}
	c, err = config.Load(env(map[string]string{config.EnvSignInLimitAddr: "5/10s", config.EnvSignInLimitUser: "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SignInLimitAddr != (config.Limit{N: 5, Per: 10 * time.Second}) || !c.SignInLimitUser.Off() || c.SignInLimitUser.String() != "off" {
		t.Errorf("limits %v, %v", c.SignInLimitAddr, c.SignInLimitUser)
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ov := config.Bind(fs)
	if err := fs.Parse([]string{"--host", "0.0.0.0", "--signin-limit-user", "3/1m"}); err != nil {
		t.Fatal(err)
	}
	c, err = config.Load(ov.Getenv(env(map[string]string{config.EnvHost: "127.0.0.1"})))
	if err != nil || c.Host != "0.0.0.0" || c.SignInLimitUser != (config.Limit{N: 3, Per: time.Minute}) {
		t.Errorf("flags: host %q, user limit %v, %v", c.Host, c.SignInLimitUser, err)
	}
}

func TestHostAndLimitsRejected(t *testing.T) {
	tests := []struct {
		name, variable, value, want string
	}{
		{"host with port", config.EnvHost, "127.0.0.1:8080", "without a port"},
		{"host a URL", config.EnvHost, "http://localhost", "without a port"},
		{"host with a space", config.EnvHost, "local host", "127.0.0.1, 0.0.0.0"},
		{"host with an empty label", config.EnvHost, "a..b", "127.0.0.1, 0.0.0.0"},
		{"host with a control character", config.EnvHost, "a\x01b", "127.0.0.1, 0.0.0.0"},
		{"limit without a period", config.EnvSignInLimitAddr, "20", "N/DURATION"},
		{"limit zero", config.EnvSignInLimitAddr, "0/1m", "N from 1"},
		{"limit negative", config.EnvSignInLimitUser, "-1/1m", "N from 1"},
		{"limit huge", config.EnvSignInLimitUser, "99999999999/1m", "N from 1"},
		{"limit bad duration", config.EnvSignInLimitUser, "5/soon", "DURATION from 1s to 24h"},
		{"limit period too short", config.EnvSignInLimitUser, "5/1ms", "DURATION from 1s to 24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{tt.variable: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.variable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s=%q: %v; want an error naming %s and saying %q", tt.variable, tt.value, err, tt.variable, tt.want)
			}
		})
	}
}

func TestLogLevel(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil || c.LogLevel != slog.LevelInfo {
		t.Fatalf("default log level %v, %v; want INFO", c.LogLevel, err)
	}
	for _, tt := range []struct {
		name, value string
		want        slog.Level
	}{
		{"debug", "debug", slog.LevelDebug},
		{"upper case", "WARN", slog.LevelWarn},
		{"error", "error", slog.LevelError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(map[string]string{config.EnvLogLevel: tt.value}))
			if err != nil || c.LogLevel != tt.want {
				t.Errorf("%s=%q: %v, %v; want %v", config.EnvLogLevel, tt.value, c.LogLevel, err, tt.want)
			}
		})
	}
	_, err = config.Load(env(map[string]string{config.EnvLogLevel: "verbose"}))
	if err == nil || !strings.Contains(err.Error(), config.EnvLogLevel) || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("%s=verbose: %v; want an error naming the variable and the levels", config.EnvLogLevel, err)
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ov := config.Bind(fs)
	if err := fs.Parse([]string{"--log-level", "debug"}); err != nil {
		t.Fatal(err)
	}
	c, err = config.Load(ov.Getenv(env(map[string]string{config.EnvLogLevel: "error"})))
	if err != nil || c.LogLevel != slog.LevelDebug {
		t.Errorf("--log-level debug over %s=error: %v, %v", config.EnvLogLevel, c.LogLevel, err)
	}
}

func TestLoadAllowedHosts(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ov := config.Bind(fs)
	if err := fs.Parse([]string{"--allowed-hosts", " Tokenlab.Example.COM. , .dev.example,, my_service ,[::1], 192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(ov.Getenv(env(map[string]string{config.EnvAllowedHosts: "ignored.example"})))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.AllowedHosts); got != "[tokenlab.example.com .dev.example my_service ::1 192.0.2.7]" {
		t.Errorf("allowed hosts = %s", got)
	}

	bad := []struct{ name, value, want string }{
		{"with a port", "tokenlab.example:8080", "without scheme or port"},
		{"with a scheme", "https://tokenlab.example", "without scheme or port"},
		{"a wildcard", "*.example.com", "write .example.com"},
		{"everything", "*", "wildcard"},
		{"a lone dot", ".", "host name"},
		{"an empty label", "a..example", "host name"},
		{"a space inside", "tokenlab example", "host name"},
		{"not ASCII", "bücher.example", "xn--"},
		{"a label too long", strings.Repeat("a", 64) + ".example", "host name"},
		{"half an IP address", "10.0.1", "neither a name"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{config.EnvAllowedHosts: "ok.example," + tt.value}))
			if err == nil {
				t.Fatalf("Load accepted %q", tt.value)
			}
			if msg := err.Error(); !strings.Contains(msg, config.EnvAllowedHosts) || !strings.Contains(msg, tt.want) || !strings.Contains(msg, fmt.Sprintf("%q", tt.value)) {
				t.Errorf("error %q should name %s, quote %q and say %q", msg, config.EnvAllowedHosts, tt.value, tt.want)
			}
		})
	}
}

func TestLab(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"open demo mode", nil, true},
		{"users file", map[string]string{config.EnvUsersFile: "users.json"}, false},
		{"users file, lab on", map[string]string{config.EnvUsersFile: "users.json", config.EnvLab: "on"}, true},
		{"open demo mode, lab off", map[string]string{config.EnvLab: "off"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(tt.env))
			if err != nil || c.Lab != tt.want {
				t.Errorf("lab %v, %v; want %v", c.Lab, err, tt.want)
			}
		})
	}
	_, err := config.Load(env(map[string]string{config.EnvLab: "yes"}))
	if err == nil || !strings.Contains(err.Error(), config.EnvLab) || !strings.Contains(err.Error(), "on or off") {
		t.Errorf("%s=yes: %v; want an error naming the variable and its values", config.EnvLab, err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ov := config.Bind(fs)
	if err := fs.Parse([]string{"--lab=on"}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(ov.Getenv(env(map[string]string{config.EnvUsersFile: "users.json"})))
	if err != nil || !c.Lab {
		t.Errorf("--lab=on with a users file: %v, %v", c.Lab, err)
	}
}
