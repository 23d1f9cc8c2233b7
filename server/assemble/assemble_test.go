package assemble_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/assemble"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

const (
	accountSID = "AC15c1737bf14064d2278d616face3f17f"
	apiKeySID  = "SK21c17013f3face8fdc4e4623b0a9d2c1"
)

// load is the configuration of real credentials with secret.
func load(tb testing.TB, secret string) config.Config {
	tb.Helper()
	env := map[string]string{config.EnvAccountSID: accountSID, config.EnvAPIKeySID: apiKeySID, config.EnvAPIKeySecret: secret,
		config.EnvAllowedHosts: "example.com"} // httptest's requests' Host
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func mustServer(tb testing.TB, cfg config.Config) *assemble.Server {
	tb.Helper()
	s, err := assemble.New(cfg, slog.New(slog.DiscardHandler), users.OpenDemo{}, assemble.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Hub.Shutdown)
	return s
}

// signIn returns the session cookie of a sign-in.
func signIn(tb testing.TB, h http.Handler) *http.Cookie {
	tb.Helper()
	r := httptest.NewRequest("POST", "/token", strings.NewReader(`{"username":"alice","password":"pw"}`))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	tb.Fatalf("sign-in set no session cookie: %d %s", rec.Code, rec.Body)
	return nil
}

func refresh(h http.Handler, c *http.Cookie) int {
	r := httptest.NewRequest("POST", "/token/refresh", nil)
	r.AddCookie(c)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// Without TOKENLAB_SESSION_KEY the session key follows the API key secret:
// a restart with the same secret keeps sessions, another secret does not
// open them.
func TestSessionKeyFollowsTheSecret(t *testing.T) {
	const secret = "api-key-secret-under-test-0123456789"
	c := signIn(t, mustServer(t, load(t, secret)).Handler)
	if code := refresh(mustServer(t, load(t, secret)).Handler, c); code != http.StatusOK {
		t.Errorf("after a restart with the same secret: %d, want 200", code)
	}
	if code := refresh(mustServer(t, load(t, secret+"2")).Handler, c); code != http.StatusUnauthorized {
		t.Errorf("with another secret: %d, want 401", code)
	}
}

// The demo account's public secret never seals sessions: two servers
// without a session key or state directory do not open each other's.
func TestDemoSessionKeyIsRandom(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.AllowedHosts = []string{"example.com"}
	c := signIn(t, mustServer(t, cfg).Handler)
	if code := refresh(mustServer(t, cfg).Handler, c); code != http.StatusUnauthorized {
		t.Errorf("another demo server opened the session: %d, want 401", code)
	}
}

func TestMissingStateDirIsNamed(t *testing.T) {
	cfg := load(t, "api-key-secret-under-test-0123456789")
	cfg.StateDir = t.TempDir() + "/missing"
	if _, err := assemble.New(cfg, slog.New(slog.DiscardHandler), users.OpenDemo{}, assemble.Options{}); err == nil || !strings.Contains(err.Error(), config.EnvStateDir) {
		t.Errorf("missing state dir: %v, want an error naming %s", err, config.EnvStateDir)
	}
}

// A bad trusted origin is an error, never a panic.
func TestBadOriginIsAnError(t *testing.T) {
	cfg := load(t, "api-key-secret-under-test-0123456789")
	cfg.AllowedOrigins = []string{"not an origin"}
	if _, err := assemble.New(cfg, slog.New(slog.DiscardHandler), users.OpenDemo{}, assemble.Options{}); err == nil || !strings.Contains(err.Error(), config.EnvAllowedOrigins) {
		t.Errorf("bad origin: %v, want an error naming %s", err, config.EnvAllowedOrigins)
	}
}

// TestJitterReachesSDKConnections: Options.Jitter draws the warning jitter
// of a twilsock connection too, not only the hub's (the bench replays it
// to know each warning's due time).
func TestJitterReachesSDKConnections(t *testing.T) {
	cfg := load(t, "jitter-test-secret-0123456789abcdef")
	drawn := make(chan time.Duration, 1)
	s, err := assemble.New(cfg, slog.New(slog.DiscardHandler), users.OpenDemo{}, assemble.Options{
		Jitter: func(max time.Duration) time.Duration {
			select {
			case drawn <- max:
			default:
			}
			return 0
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Hub.Shutdown)
	srv := httptest.NewServer(s.Handler)
	defer srv.Close()

	m, err := s.Minter.Mint("alice", token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", http.Header{"Host": {"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	init, err := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: m.Token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, init); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := twilsock.Decode(data); err != nil || f.Header.Status == nil || f.Header.Status.Code != twilsock.StatusOK {
		t.Fatalf("init answered %q (%v), want 200", data, err)
	}
	want := renew.MaxJitter(renew.Lead(time.Hour, cfg.WarnLead))
	select {
	case max := <-drawn:
		if max != want {
			t.Errorf("the jitter was drawn with max %v, want %v (a tenth of the lead)", max, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the twilsock connection's warning did not draw its jitter from Options.Jitter")
	}
}
