package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

const (
	testAccount = "AC15c1737bf14064d2278d616face3f17f"
	testKey     = "SK21c17013f3face8fdc4e4623b0a9d2c1"
	testSecret  = "cli-test-secret-value"
)

// realEnv is a complete Twilio configuration.
func realEnv(extra ...string) map[string]string {
	m := map[string]string{"TWILIO_ACCOUNT_SID": testAccount, "TWILIO_API_KEY_SID": testKey, "TWILIO_API_KEY_SECRET": testSecret}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	err            error
}

// runCLI runs tokenlab with args, as main would, with a fake environment.
func runCLI(tb testing.TB, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"tokenlab"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errOut)
	r := result{out.String(), errOut.String(), err}
	for _, s := range []string{r.stdout, r.stderr, errString(err)} {
		if strings.Contains(s, testSecret) {
			tb.Fatalf("output reveals the secret: %s", s)
		}
	}
	return r
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestHelp(t *testing.T) {
	r := runCLI(t, nil, "", "help")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, c := range commands() {
		if !strings.Contains(r.stdout, "  "+c.name+" ") {
			t.Errorf("help does not list %s:\n%s", c.name, r.stdout)
		}
	}
	for _, c := range commands() {
		r := runCLI(t, nil, "", "help", c.name)
		if r.err != nil || !strings.HasPrefix(r.stdout, "usage: tokenlab "+c.name) {
			t.Errorf("help %s: %v\n%s", c.name, r.err, r.stdout)
		}
	}
	r = runCLI(t, nil, "", "mint", "-h")
	if r.err != nil || !strings.Contains(r.stdout, "-video-room") {
		t.Errorf("mint -h: %v %s", r.err, r.stdout)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"help for an unknown command", []string{"help", "frobnicate"}, "frobnicate"},
		{"bad flag", []string{"mint", "--colour"}, "-colour"},
		{"bad flag on serve", []string{"--bogus"}, "-bogus"},
		{"flag needs a number", []string{"mint", "--identity", "a", "--ttl", "soon"}, "-ttl"},
		{"mint without identity", []string{"mint", "--video"}, "--identity is required"},
		{"mint without grants", []string{"mint", "--identity", "a"}, "no grant"},
		{"mint ttl 0", []string{"mint", "--identity", "a", "--video", "--ttl", "0"}, "--ttl"},
		{"mint ttl 86401", []string{"mint", "--identity", "a", "--video", "--ttl", "86401"}, "--ttl"},
		{"mint bad chat SID", []string{"mint", "--identity", "a", "--chat-service-sid", "ZS" + strings.Repeat("0", 32)}, "--chat-service-sid must be IS"},
		{"mint bad voice app", []string{"mint", "--identity", "a", "--voice-app-sid", "AP12"}, "--voice-app-sid must be AP"},
		{"mint worker without workspace", []string{"mint", "--identity", "a", "--worker-sid", "WK" + strings.Repeat("0", 32)}, "--workspace-sid"},
		{"mint push credential alone", []string{"mint", "--identity", "a", "--video", "--push-credential-sid", "CR" + strings.Repeat("0", 32)}, "needs a chat or voice grant"},
		{"mint grant twice", []string{"mint", "--identity", "a", "--video-room", "r", "--grants", `{"video":{}}`}, "both by --grants and by --video-room"},
		{"mint grants JSON unknown key", []string{"mint", "--identity", "a", "--grants", `{"fax":{}}`}, "grants.fax"},
		{"mint grants JSON wrong type", []string{"mint", "--identity", "a", "--grants", `{"video":{"room":1}}`}, "grants.video.room"},
		{"decode two tokens", []string{"decode", "a", "b"}, "one token"},
		{"decode nothing", []string{"decode"}, "no token"},
		{"useradd without file", []string{"useradd", "susan"}, "--file"},
		{"useradd bad grant", []string{"useradd", "--file", "x.json", "--grants", "video,fax", "susan"}, `"fax"`},
		{"useradd no name", []string{"useradd", "--file", "x.json"}, "exactly one NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "", tt.args...)
			if r.err == nil || exitCode(r.err) != 2 || !strings.Contains(r.err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want exit 2 saying %q", r.err, exitCode(r.err), tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout should stay empty on errors: %q", r.stdout)
			}
		})
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"serve, partial credentials", map[string]string{"TWILIO_ACCOUNT_SID": testAccount}, []string{"serve"}, "TWILIO_API_KEY_SID is not set"},
		{"serve, bad port", map[string]string{"PORT": "eighty"}, []string{"serve"}, "PORT must be a TCP port"},
		{"serve, missing users file", map[string]string{"TOKENLAB_USERS_FILE": "/nonexistent/users.json"}, []string{"serve"}, "TOKENLAB_USERS_FILE"},
		{"mint, bad account SID", realEnv("TWILIO_ACCOUNT_SID", "AC123"), []string{"mint", "--identity", "a", "--video"}, "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"},
		{"mint, bad region flag", realEnv(), []string{"mint", "--identity", "a", "--video", "--region", "moon"}, "TWILIO_REGION"},
		{"decode --verify, empty secret", map[string]string{"TWILIO_ACCOUNT_SID": testAccount, "TWILIO_API_KEY_SID": testKey}, []string{"decode", "--verify", "a.b.c"}, "TWILIO_API_KEY_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", tt.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", r.err, tt.want)
			}
		})
	}
}

func TestMintDecodeRoundTrip(t *testing.T) {
	r := runCLI(t, realEnv("TWILIO_REGION", "ie1"), "", "mint", "--identity", "alice", "--ttl", "600",
		"--video-room", "standup", "--chat-service-sid", "IS"+strings.Repeat("a", 32),
		"--voice-app-sid", "AP"+strings.Repeat("b", 32), "--voice-incoming", "--push-credential-sid", "CR"+strings.Repeat("c", 32),
		"--sync-service-sid", "IS"+strings.Repeat("d", 32),
		"--workspace-sid", "WS"+strings.Repeat("e", 32), "--worker-sid", "WK"+strings.Repeat("f", 32), "--role", "supervisor",
		"--grants", `{"rtc":{"configuration_profile_sid":"CJ11111111111111111111111111111111"}}`)
	if r.err != nil {
		t.Fatal(r.err)
	}
	raw := strings.TrimSpace(r.stdout)
	if strings.Count(r.stdout, "\n") != 1 || strings.Count(raw, ".") != 2 {
		t.Fatalf("stdout should be the token alone: %q", r.stdout)
	}
	tok, err := token.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	g := tok.Claims.Grants
	if g.Identity != "alice" || g.Video.Room != "standup" || g.Chat.PushCredentialSID == "" || g.Voice.PushCredentialSID == "" ||
		!g.Voice.Incoming.Allow || g.Voice.Outgoing.ApplicationSID == "" || g.Sync == nil || g.TaskRouter.Role != "supervisor" || g.RTC == nil {
		t.Errorf("grants = %+v", g)
	}
	if tok.Header.Twr != "ie1" || tok.Claims.TTL() != 600*time.Second || tok.Claims.Sub != testAccount {
		t.Errorf("header %+v claims %+v", tok.Header, tok.Claims)
	}

	for _, viaStdin := range []bool{false, true} {
		args, stdin := []string{"decode", "--verify", raw}, ""
		if viaStdin {
			args, stdin = []string{"decode", "--verify"}, raw+"\n"
		}
		d := runCLI(t, realEnv(), stdin, args...)
		if d.err != nil {
			t.Fatal(d.err)
		}
		for _, want := range []string{"header:\n{\n  \"alg\": \"HS256\"", `"cty": "twilio-fpa;v=1"`, `"identity": "alice"`, `"room": "standup"`, "expires: ", "(in 9m5", "signature: valid"} {
			if !strings.Contains(d.stdout, want) {
				t.Errorf("decode output lacks %q:\n%s", want, d.stdout)
			}
		}
	}
	// The same token checked against another secret fails, with exit code 1.
	d := runCLI(t, realEnv("TWILIO_API_KEY_SECRET", "another"), "", "decode", "--verify", raw)
	if d.err == nil || exitCode(d.err) != 1 || !strings.Contains(d.stdout, "signature: INVALID") {
		t.Errorf("verify with another secret: %v\n%s", d.err, d.stdout)
	}
}

func TestDecodeExpired(t *testing.T) {
	m, err := mint.New(mint.Credentials{AccountSID: testAccount, APIKeySID: testKey, APIKeySecret: testSecret},
		func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	old, err := m.Mint("bob", token.Grants{Video: &token.VideoGrant{}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "", "decode", old.Token)
	if r.err != nil || !regexp.MustCompile(`expired 59m5\ds ago|expired 1h0m0s ago`).MatchString(r.stdout) {
		t.Errorf("%v\n%s", r.err, r.stdout)
	}
	r = runCLI(t, nil, "", "decode", "not-a-token")
	if r.err == nil || !strings.Contains(r.err.Error(), "3 dot-separated segments") {
		t.Errorf("garbage: %v", r.err)
	}
}

func TestMintDemoAccountWarns(t *testing.T) {
	r := runCLI(t, nil, "", "mint", "--identity", "a", "--video")
	if r.err != nil || !strings.Contains(r.stderr, "demo account") {
		t.Fatalf("%v stderr=%q", r.err, r.stderr)
	}
	tok, err := token.Decode(strings.TrimSpace(r.stdout))
	if err != nil || tok.Claims.Iss != "SK00000000000000000000000000000000" {
		t.Errorf("%v %+v", err, tok)
	}
}

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

var (
	addrInLog = regexp.MustCompile(`tokenlab listening" addr=(\S+)`)
	// servingURL is serve's line on stdout for scripts.
	servingURL = regexp.MustCompile(`serving (\S+)/\n`)
)

// waitForLog waits up to 10 s for re to match the server's log and returns
// its first group; it fails the test if serve stops first.
func waitForLog(tb testing.TB, logs *syncBuffer, done <-chan error, re *regexp.Regexp) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			tb.Fatalf("serve stopped early: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	tb.Fatalf("no match for %s in the log:\n%s", re, logs)
	return ""
}

// testServer is a tokenlab server a test runs in-process, as `tokenlab
// serve` runs it: the configuration from the environment, the real
// listener, limits and shutdown.
type testServer struct {
	url    string // the page's URL on localhost, without the final slash
	addr   string // the address it listens on
	logs   *syncBuffer
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// shutdown asks the server to stop, as SIGTERM does; wait sees it end.
func (s *testServer) shutdown() { s.cancel() }

// wait returns what serve returned, or an error if it is still running
// after within.
func (s *testServer) wait(within time.Duration) error {
	s.once.Do(func() {
		select {
		case s.err = <-s.done:
		case <-time.After(within):
			s.err = fmt.Errorf("serve did not stop within %v of its shutdown", within)
		}
	})
	return s.err
}

// stop shuts the server down and returns what serve returned.
func (s *testServer) stop() error {
	s.shutdown()
	return s.wait(15 * time.Second)
}

// startServer is the one way the server's tests start a server: the one
// vars configures (on a free port unless vars sets PORT), with limits lim
// (nil: the defaults). It stops when the test ends, and must not have
// logged the API key secret.
func startServer(tb testing.TB, vars map[string]string, lim *serverLimits) *testServer {
	tb.Helper()
	getenv := func(k string) string {
		if v, ok := vars[k]; ok || k != "PORT" {
			return v
		}
		return "0"
	}
	cfg, err := loadConfig(env{getenv: getenv}, config.Overrides{})
	if err != nil {
		tb.Fatal(err)
	}
	if lim == nil {
		l := defaultLimits()
		lim = &l
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{logs: &syncBuffer{}, stdout: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	go func() { s.done <- serveWith(ctx, cfg, log, *lim, s.stdout) }()
	tb.Cleanup(func() {
		if err := s.stop(); err != nil {
			tb.Errorf("serve returned %v", err)
		}
		if strings.Contains(s.logs.String(), testSecret) {
			tb.Error("the log reveals the secret")
		}
	})
	s.addr = waitForLog(tb, s.logs, s.done, addrInLog)
	s.url = waitForLog(tb, s.stdout, s.done, servingURL)
	return s
}

func postJSON(tb testing.TB, url, body string) (int, map[string]any) {
	tb.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, v
}

func TestUseraddThenSignIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	r := runCLI(t, nil, "pa55word\n", "useradd", "--file", path, "--grants", "video,chat", "--cost", "4", "--password-stdin", "susan")
	if r.err != nil || !strings.Contains(r.stdout, "added user susan") {
		t.Fatalf("useradd: %v %q", r.err, r.stdout)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "pa55word") {
		t.Fatal("password stored in clear")
	}
	// The file comes from the environment too, and a second run updates.
	r = runCLI(t, map[string]string{"TOKENLAB_USERS_FILE": path}, "other\r\n", "useradd", "--grants", "*", "--cost", "4", "root")
	if r.err != nil || !strings.Contains(r.stdout, "added user root") {
		t.Fatalf("useradd root: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, nil, "", "useradd", "--file", path, "--cost", "4", "bob"); r.err == nil || !strings.Contains(r.err.Error(), "empty password") {
		t.Errorf("empty password: %v", r.err)
	}

	srv := startServer(t, realEnv("TOKENLAB_USERS_FILE", path), nil)
	base, logs := srv.url, srv.logs
	if !strings.Contains(logs.String(), "users file loaded") || strings.Contains(logs.String(), "OPEN DEMO MODE") {
		t.Errorf("log:\n%s", logs)
	}
	status, body := postJSON(t, base+"/token", `{"username":"susan","password":"pa55word"}`)
	if status != 200 || body["identity"] != "susan" {
		t.Fatalf("sign-in: %d %v", status, body)
	}
	if _, err := token.Decode(body["token"].(string)); err != nil {
		t.Fatal(err)
	}
	if status, body := postJSON(t, base+"/token", `{"username":"susan","password":"wrong"}`); status != 401 {
		t.Errorf("wrong password: %d %v", status, body)
	}
	if status, body := postJSON(t, base+"/token", `{"username":"susan","password":"pa55word","grants":{"voice":{}}}`); status != 403 {
		t.Errorf("voice for susan: %d %v", status, body)
	}
	if status, _ := postJSON(t, base+"/token", `{"username":"root","password":"other","grants":{"voice":{}}}`); status != 200 {
		t.Errorf("root (password read up to \\r\\n): %d", status)
	}
	// The server verifies its own tokens.
	status, body = postJSON(t, base+"/token/verify", `{"token":"`+tokenFrom(t, base)+`"}`)
	if status != 200 || body["valid"] != true {
		t.Errorf("verify: %d %v", status, body)
	}
}

func tokenFrom(tb testing.TB, base string) string {
	tb.Helper()
	_, body := postJSON(tb, base+"/token", `{"username":"susan","password":"pa55word"}`)
	return body["token"].(string)
}

func TestServeOpenDemoSaysSo(t *testing.T) {
	srv := startServer(t, nil, nil)
	base, logs := srv.url, srv.logs
	for _, want := range []string{"OPEN DEMO MODE", "DEMO ACCOUNT", "Twilio will reject"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs)
		}
	}
	status, body := postJSON(t, base+"/token", `{"username":"susan","password":"secret"}`)
	if status != 200 || body["identity"] != "susan" {
		t.Errorf("%d %v", status, body)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
}

func TestServePortInUse(t *testing.T) {
	base := startServer(t, nil, nil).url
	port := base[strings.LastIndex(base, ":")+1:]
	r := runCLI(t, map[string]string{"PORT": port}, "", "serve")
	if r.err == nil || !strings.Contains(r.err.Error(), "set PORT to a free port") || exitCode(r.err) != 1 {
		t.Errorf("err = %v", r.err)
	}
}

func TestExitCodes(t *testing.T) {
	if exitCode(usageErrorf("x")) != 2 || exitCode(errors.New("x")) != 1 || exitCode(errors.Join(errors.New("a"), usageErrorf("b"))) != 2 {
		t.Error("exit codes")
	}
}

// TOKENLAB_LOG_LEVEL reaches the server's logger: a successful request is
// logged at debug, so only a server started at debug writes its line.
func TestServeLogLevel(t *testing.T) {
	for _, tt := range []struct {
		level string
		want  bool
	}{{"", false}, {"debug", true}} {
		t.Run("level="+tt.level, func(t *testing.T) {
			env := realEnv()
			if tt.level != "" {
				env["TOKENLAB_LOG_LEVEL"] = tt.level
			}
			srv := startServer(t, env, nil)
			base, logs := srv.url, srv.logs
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			resp, err = http.Post(base+"/token/refresh", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Lines are written after the answers: wait for the 401's.
			waitForLog(t, logs, make(chan error), regexp.MustCompile(`(level=INFO msg=request method=POST path=/token/refresh status=401)`))
			if got := strings.Contains(logs.String(), `level=DEBUG msg=request method=GET path=/healthz status=200`); got != tt.want {
				t.Errorf("TOKENLAB_LOG_LEVEL=%q: the 200 logged %v, want %v:\n%s", tt.level, got, tt.want, logs)
			}
		})
	}
}

func TestTopLevelHelpListsTheCommands(t *testing.T) {
	for _, flag := range []string{"-h", "-help", "--help"} {
		r := runCLI(t, nil, "", flag)
		if r.err != nil {
			t.Fatalf("tokenlab %s: %v", flag, r.err)
		}
		if !strings.Contains(r.stdout, "commands:") || !strings.Contains(r.stdout, "  version ") {
			t.Errorf("tokenlab %s should list the commands, printed:\n%s", flag, r.stdout)
		}
	}
}

func TestVersionNamesTheCommit(t *testing.T) {
	// The Makefile builds with -buildvcs=auto, which stamps the commit even
	// where GOFLAGS turns stamping off.
	bin := filepath.Join(t.TempDir(), "tokenlab")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("tokenlab version: %v\n%s", err, out)
	}
	// The toolchain's own reading of the binary is the reference: a clone
	// names its commit; a tree go cannot stamp says so.
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := "commit unknown"
	if m := regexp.MustCompile(`vcs\.revision=(\S+)`).FindSubmatch(meta); m != nil {
		want = "commit " + string(m[1])
	} else if head, err := exec.Command("git", "rev-parse", "--git-dir").Output(); err == nil && filepath.Base(strings.TrimSpace(string(head))) == ".git" {
		t.Errorf("the build in a plain git checkout carries no commit:\n%s", meta)
	}
	if !strings.HasPrefix(string(out), "tokenlab ") || !strings.Contains(string(out), want) || !strings.Contains(string(out), "go1.") {
		t.Errorf("tokenlab version printed %q, want the module version, %q and the Go version", out, want)
	}
	if r := runCLI(t, nil, "", "version", "extra"); r.err == nil || exitCode(r.err) != 2 {
		t.Errorf("version with an argument: err = %v, want a usage error", r.err)
	}
}

func TestDescribeBuild(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}},
			"tokenlab v1.2.0 commit abc123 (2026-12-01T10:00:00Z) go1.26.0"},
		{"dirty tree", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"tokenlab (devel) commit abc123 with uncommitted changes go1.26.0"},
		{"no vcs", debug.BuildInfo{GoVersion: "go1.26.0"},
			"tokenlab (devel) commit unknown (built outside a git checkout, or with -buildvcs=false) go1.26.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeBuild(&tt.info); got != tt.want {
				t.Errorf("describeBuild = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMintTakesThePluginsFlags mints with the Twilio CLI token plugin's
// own flags and checks the grants against the plugin's defaults.
func TestMintTakesThePluginsFlags(t *testing.T) {
	app := "AP" + strings.Repeat("b", 32)
	tests := []struct {
		name                   string
		args                   []string
		room                   string
		outgoing, incoming     bool
		wantVideo, wantNoVoice bool
	}{
		{"room-name", []string{"--room-name", "standup"}, "standup", false, false, true, true},
		{"room-name agrees with video-room", []string{"--room-name", "standup", "--video-room", "standup"}, "standup", false, false, true, true},
		{"voice app alone allows incoming", []string{"--voice-app-sid", app}, "", true, true, false, false},
		{"allow-incoming=true", []string{"--voice-app-sid", app, "--allow-incoming=true"}, "", true, true, false, false},
		{"allow-incoming=false", []string{"--voice-app-sid", app, "--allow-incoming=false"}, "", true, false, false, false},
		{"voice-incoming alone", []string{"--voice-incoming"}, "", false, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, realEnv(), "", append([]string{"mint", "--identity", "alice"}, tt.args...)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			tok, err := token.Decode(strings.TrimSpace(r.stdout))
			if err != nil {
				t.Fatal(err)
			}
			g := tok.Claims.Grants
			if (g.Video != nil) != tt.wantVideo || (tt.wantVideo && g.Video.Room != tt.room) {
				t.Errorf("video grant = %+v, want room %q: %v", g.Video, tt.room, tt.wantVideo)
			}
			if tt.wantNoVoice {
				if g.Voice != nil {
					t.Errorf("voice grant = %+v, want none", g.Voice)
				}
				return
			}
			if g.Voice == nil {
				t.Fatal("no voice grant")
			}
			if got := g.Voice.Outgoing != nil; got != tt.outgoing {
				t.Errorf("outgoing = %v, want %v", got, tt.outgoing)
			}
			if got := g.Voice.Incoming != nil && g.Voice.Incoming.Allow; got != tt.incoming {
				t.Errorf("incoming = %v, want %v", got, tt.incoming)
			}
		})
	}
	refused := []struct {
		name, want string
		args       []string
	}{
		{"two rooms", "name two rooms", []string{"--room-name", "a", "--video-room", "b"}},
		{"allow-incoming without voice", "needs a voice grant", []string{"--video", "--allow-incoming"}},
		{"allow-incoming not a bool", "want true or false", []string{"--voice-app-sid", app, "--allow-incoming=maybe"}},
		{"incoming asked and refused", "drop one", []string{"--voice-incoming", "--allow-incoming=false"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, realEnv(), "", append([]string{"mint", "--identity", "alice"}, tt.args...)...)
			if r.err == nil || exitCode(r.err) != 2 || !strings.Contains(r.err.Error(), tt.want) {
				t.Fatalf("err = %v, want a usage error saying %q", r.err, tt.want)
			}
		})
	}
}
