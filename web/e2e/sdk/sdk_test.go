// Package sdk_test runs Twilio's real twilio-sync bundle (pinned in
// package-lock.json, installed by `npm ci` into node_modules) in headless
// Chromium against the real bin/tokenlab, offline: the SDK's token
// lifecycle (connect, tokenAboutToExpire, updateToken, tokenExpired) with
// short ttls. The page is served by the test from another origin, as a
// user's app would be.
//
// The tests skip, saying how to fix it, when Chromium, the binary or the
// SDK is missing, except when the CI variable is set: there they fail.
package sdk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web/e2e/browser"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// The SDKs' browser bundles, as npm ci installs them.
const (
	bundle              = "node_modules/twilio-sync/builds/twilio-sync.min.js"
	conversationsBundle = "node_modules/@twilio/conversations/builds/twilio-conversations.min.js"
)

var (
	skipReason string
	browserCtx context.Context
	// baseURL is tokenlab, wsURL its twilsock endpoint; appURL serves
	// page.html.
	baseURL, wsURL, appURL string
	// creds are the server's: it runs with the built-in demo account.
	creds mint.Credentials
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	chromium, bin, why := findTools()
	if why != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "sdk: CI is set, so the SDK tests must run, but "+why)
			return 1
		}
		skipReason = why
		return m.Run()
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk: the demo configuration:", err)
		return 1
	}
	creds = cfg.Twilio
	app := httptest.NewServer(appHandler())
	defer app.Close()
	appURL = app.URL
	serverBin = bin
	if err := startServer("0"); err != nil {
		fmt.Fprintln(os.Stderr, "sdk: starting", bin+":", err)
		return 1
	}
	defer func() { stopServer() }() // the last server started: a test may restart it

	ctx, stopBrowser, err := browser.Start(chromium)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk:", err)
		return 1
	}
	defer stopBrowser()
	browserCtx = ctx
	return m.Run()
}

// findTools locates Chromium, the tokenlab binary and the SDK bundle, or
// says what is missing and how to get it.
func findTools() (chromium, bin, why string) {
	if chromium, why = browser.Chromium(); why != "" {
		return "", "", why
	}
	if _, err := os.Stat(bundle); err != nil {
		return "", "", "the pinned Twilio SDKs are not installed: run `npm ci` in web/e2e/sdk (.ci/run does)"
	}
	if _, err := os.Stat(conversationsBundle); err != nil {
		return "", "", "the pinned Twilio SDKs are not installed: run `npm ci` in web/e2e/sdk (.ci/run does)"
	}
	if bin, why = browser.Binary(filepath.Join("..", "..", "..", "bin", "tokenlab")); why != "" {
		return "", "", why
	}
	return chromium, bin, ""
}

// appHandler serves the app's page and the SDK bundle.
func appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "page.html") })
	mux.HandleFunc("GET /twilio-sync.min.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, bundle) })
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "conversations.html") })
	mux.HandleFunc("GET /twilio-conversations.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, conversationsBundle)
	})
	return mux
}

var listening = regexp.MustCompile(`tokenlab listening"? addr=\S*:(\d+)`)

// serverBin is the tokenlab binary under test; stopServer stops the
// server startServer started last.
var (
	serverBin  string
	stopServer = func() {}
)

// startServer runs bin/tokenlab in open demo mode on loopback port ("0":
// a free one), in an empty directory and environment. stopServer ends it
// as a person does, with SIGTERM (it closes the SDK sockets with 1001).
func startServer(port string) error {
	dir, err := os.MkdirTemp("", "tokenlab-sdk-")
	if err != nil {
		return err
	}
	cmd := exec.Command(serverBin, "serve", "-port", port)
	cmd.Dir = dir
	// The app's page may ask for tokens, as README's example does.
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TOKENLAB_ALLOWED_ORIGINS=" + appURL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	listens := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case listens <- m[1]:
				default:
				}
			}
			if os.Getenv("TOKENLAB_E2E_LOG") != "" {
				fmt.Fprintln(os.Stderr, "server:", sc.Text())
			}
		}
		io.Copy(io.Discard, out)
	}()
	stopServer = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		<-drained
		os.RemoveAll(dir)
	}
	select {
	case p := <-listens:
		baseURL = "http://127.0.0.1:" + p
		wsURL = "ws://127.0.0.1:" + p + "/v3/wsconnect"
		return nil
	case <-time.After(10 * time.Second):
		stopServer()
		return errors.New("no \"tokenlab listening\" line within 10s")
	}
}

// newTab opens the app's Sync page in a fresh browser context, bounded by
// limit.
func newTab(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	return openPage(t, limit, "/", "Twilio.Sync")
}

// openPage opens the app's page at path in a fresh browser context and
// waits until the SDK (global) is loaded.
func openPage(t *testing.T, limit time.Duration, path, global string) context.Context {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	ctx, cancelT := context.WithTimeout(tab, limit)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate(appURL+path),
		chromedp.Poll[chromedp.Void](`typeof Twilio !== "undefined" && typeof `+global+` !== "undefined" && typeof window.lifecycle === "function"`,
			chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("loading the app's page: %v", err)
	}
	return ctx
}

// syncToken mints a Sync token for identity, valid from now (by clock).
func syncToken(t *testing.T, c mint.Credentials, now func() time.Time, identity string, ttl time.Duration) string {
	t.Helper()
	m, err := mint.New(c, now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(identity, token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// call runs one of page.html's scenarios and returns what it resolved with.
func call[T any](t *testing.T, ctx context.Context, fn string, args ...string) T {
	t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	js := fmt.Sprintf("window.%s(%s)", fn, strings.Join(quoted, ", "))
	if fn == "lifecycle" { // its last argument is the list of updates
		js = fmt.Sprintf("window.lifecycle(%s, %s, [%s])", quoted[0], quoted[1], strings.Join(quoted[2:], ", "))
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return v
}

// TestSyncLifecycle: the real SDK connects, is warned before expiry,
// updates its token (and is warned again before the new expiry), then sees
// tokenExpired when it does not update.
func TestSyncLifecycle(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	first := syncToken(t, creds, nil, "alice", 3*time.Second)
	second := syncToken(t, creds, nil, "alice", 6*time.Second)
	start := time.Now()
	log := call[[]string](t, ctx, "lifecycle", wsURL, first, second)
	took := time.Since(start)
	events := strings.Join(log, " ")
	want := regexp.MustCompile(`^state:connecting state:connected tokenAboutToExpire update:resolved tokenAboutToExpire (state:\w+ )*tokenExpired`)
	if !want.MatchString(events) {
		t.Fatalf("the SDK reported %q, want connected, warned, updated, warned again, expired", events)
	}
	if took < 5*time.Second {
		t.Errorf("tokenExpired after %v: before the updated token's expiry (6 s)", took)
	}
}

// TestSyncUpdateRefused: updateToken with a bad token is refused as Twilio
// refuses it: twilio-sync rejects with its 51130, and reports Twilio's
// error code in connectionError.
func TestSyncUpdateRefused(t *testing.T) {
	// The table mints tokens with the run's credentials, which are set
	// only when the suite can run: skip first, as newTab would.
	if skipReason != "" {
		t.Skip(skipReason)
	}
	other := creds
	other.APIKeySecret = "not-this-servers-secret"
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	tests := []struct {
		name, bad string
		code      string
	}{
		{"bad signature", syncToken(t, other, nil, "alice", time.Minute), "20107"},
		{"expired", syncToken(t, creds, past, "alice", time.Minute), "20104"},
		{"another identity", syncToken(t, creds, nil, "mallory", time.Minute), "20101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newTab(t, 20*time.Second)
			log := call[[]string](t, ctx, "refused", wsURL, syncToken(t, creds, nil, "alice", time.Minute), tt.bad)
			events := strings.Join(log, " ")
			if !strings.Contains(events, "update:rejected:51130") || !strings.Contains(events, "connectionError:"+tt.code) {
				t.Errorf("the SDK reported %q, want updateToken rejected (51130) and connectionError %s", events, tt.code)
			}
			if tt.code == "20104" && !strings.Contains(events, "tokenExpired") {
				t.Errorf("the SDK reported %q, want tokenExpired for an expired token", events)
			}
		})
	}
}

// TestSyncConnectExpired: connecting with an expired token gives
// tokenExpired.
func TestSyncConnectExpired(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	expired := syncToken(t, creds, func() time.Time { return time.Now().Add(-time.Hour) }, "alice", time.Minute)
	events := strings.Join(call[[]string](t, ctx, "connectOnly", wsURL, expired), " ")
	if !strings.Contains(events, "connectionError:20104") || !strings.Contains(events, "tokenExpired") {
		t.Errorf("the SDK reported %q, want connectionError 20104 and tokenExpired", events)
	}
}

// TestSyncUpstreamNotEmulated: a Sync call tokenlab does not emulate fails
// at once with an error that says so, and the connection stays up.
func TestSyncUpstreamNotEmulated(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	type answer struct {
		Message string `json:"message"`
		Status  int    `json:"status"`
		State   string `json:"state"`
	}
	a := call[answer](t, ctx, "upstream", wsURL, syncToken(t, creds, nil, "alice", time.Minute))
	if !strings.Contains(a.Message, "not emulated by tokenlab") || a.Status != http.StatusNotImplemented || a.State != "connected" {
		t.Errorf("document() failed with %+v, want a 501 saying not emulated by tokenlab, still connected", a)
	}
}

// TestReadmeExample runs README's example as it is written, in the app's
// page, against the server under test: it must fetch tokens, connect, and
// keep its token fresh (a second warning means updateToken was accepted
// and the new token scheduled).
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Twilio's Conversations and Sync SDKs, offline\n.*?```js\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no js example under \"Twilio's Conversations and Sync SDKs, offline\"")
	}
	example := string(m[1])
	const importLine = `import { SyncClient } from "twilio-sync";`
	if !strings.Contains(example, importLine) || !strings.Contains(example, "http://127.0.0.1:8080") {
		t.Fatalf("the example changed shape; update this test:\n%s", example)
	}
	// The page loads the bundle as a script, not a module; the server
	// runs on its own port.
	example = strings.Replace(example, importLine, "const { SyncClient } = Twilio.Sync;", 1)
	example = strings.ReplaceAll(example, "http://127.0.0.1:8080", baseURL)
	example = strings.ReplaceAll(example, "ws://127.0.0.1:8080", "ws://"+strings.TrimPrefix(baseURL, "http://"))
	js := `new Promise((resolve, reject) => {
  const log = [];
  window.__readme = (async () => {` + example + `
    client.on("connectionStateChanged", (s) => log.push("state:" + s));
    client.on("tokenAboutToExpire", () => { log.push("tokenAboutToExpire"); if (log.filter((e) => e === "tokenAboutToExpire").length === 2) resolve(log); });
    client.on("tokenExpired", () => resolve(log.concat("tokenExpired")));
  })().catch((e) => reject(String(e)));
})`
	ctx := newTab(t, 30*time.Second)
	log, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running README's example: %v", err)
	}
	events := strings.Join(log, " ")
	if !regexp.MustCompile(`state:connected tokenAboutToExpire tokenAboutToExpire$`).MatchString(events) {
		t.Errorf("README's example saw %q, want connected, then two warnings (the token was renewed) and no expiry", events)
	}
}

// chatToken mints a Conversations token for identity.
func chatToken(t *testing.T, identity string, ttl time.Duration) string {
	t.Helper()
	m, err := mint.New(creds, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(identity, token.Grants{Chat: &token.ChatGrant{ServiceSID: "IS00000000000000000000000000000000"}}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// TestConversationsLifecycle: the real Conversations client finishes its
// start-up on tokenlab's thin answers (initialized), is warned, has
// updateToken resolve (it updates its notification and media clients,
// which exist only after start-up), is warned again and sees tokenExpired.
func TestConversationsLifecycle(t *testing.T) {
	ctx := openPage(t, 30*time.Second, "/conversations", "Twilio.Conversations")
	first := chatToken(t, "alice", 3*time.Second)
	second := chatToken(t, "alice", 6*time.Second)
	log := call[[]string](t, ctx, "lifecycle", wsURL, first, second)
	events := strings.Join(log, " ")
	for _, re := range []string{
		`^state:connecting state:connected `,
		`initialized.*tokenAboutToExpire update:resolved tokenAboutToExpire (state:\w+ )*tokenExpired$`,
	} {
		if !regexp.MustCompile(re).MatchString(events) {
			t.Fatalf("the SDK reported %q, want connected, initialized, warned, updated, warned again, expired", events)
		}
	}
}
