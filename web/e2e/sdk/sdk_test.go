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
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web/e2e/browser"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/tlscert"
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
	// wssURL is the twilsock endpoint of a second tokenlab that serves
	// TLS with a self-signed certificate the browser trusts.
	wssURL string
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

	pin, stopTLS, err := startTLSServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk: starting", bin, "with TLS:", err)
		return 1
	}
	defer stopTLS()

	// Trust the TLS server's certificate, and only it, by its key's pin.
	ctx, stopBrowser, err := browser.Start(chromium, chromedp.Flag("ignore-certificate-errors-spki-list", pin))
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
	p, stop, err := launch(port)
	if err != nil {
		return err
	}
	stopServer = stop
	baseURL = "http://127.0.0.1:" + p
	wsURL = "ws://127.0.0.1:" + p + "/v3/wsconnect"
	return nil
}

// startTLSServer runs a second bin/tokenlab with TOKENLAB_TLS=on. Its
// self-signed certificate is made first, into the state directory the
// server keeps it in, so that the browser can be started trusting exactly
// it: pin is its key's SHA-256 for Chromium's
// --ignore-certificate-errors-spki-list.
func startTLSServer() (pin string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "tokenlab-sdk-tls-")
	if err != nil {
		return "", nil, err
	}
	cert, err := tlscert.SelfSigned(tlscert.Names(), dir, time.Now())
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	p, stopTLS, err := launch("0", "TOKENLAB_TLS=on", "TOKENLAB_STATE_DIR="+dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	wssURL = "wss://127.0.0.1:" + p + "/v3/wsconnect"
	return cert.SPKIPin(), func() { stopTLS(); os.RemoveAll(dir) }, nil
}

// launch runs bin/tokenlab in open demo mode on loopback port ("0": a
// free one), in an empty directory and environment plus env, and returns
// the port it listens on and a function that ends it as a person does,
// with SIGTERM (it closes the SDK sockets with 1001).
func launch(port string, env ...string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "tokenlab-sdk-")
	if err != nil {
		return "", nil, err
	}
	// The app's page may ask for tokens, as README's example does.
	s := &browser.Tokenlab{Bin: serverBin, Dir: dir, Port: port, Env: append([]string{"TOKENLAB_ALLOWED_ORIGINS=" + appURL}, env...)}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return s.Port, func() { s.Stop(true); os.RemoveAll(dir) }, nil
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
	return mintToken(t, c, now, identity, syncGrants, ttl)
}

// The grants each product's token carries.
var (
	syncGrants = token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}
	chatGrants = token.Grants{Chat: &token.ChatGrant{ServiceSID: "IS00000000000000000000000000000000"}}
)

// mintToken mints a token with grants for identity, signed with c's
// secret, valid from now (by clock).
func mintToken(t *testing.T, c mint.Credentials, now func() time.Time, identity string, grants token.Grants, ttl time.Duration) string {
	t.Helper()
	m, err := mint.New(c, now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(identity, grants, ttl)
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

// TestUpdateRefused: updateToken with a bad token is refused as Twilio
// refuses it, for each product: the promise rejects (twilio-sync with its
// own 51130; @twilio/conversations with twilsock's reply, status 401 and
// Twilio's code), connectionError carries Twilio's code and the client
// goes to denied (a refusal is terminal for the SDK); an expired token
// also gives tokenExpired.
func TestUpdateRefused(t *testing.T) {
	// The table mints tokens with the run's credentials, which are set
	// only when the suite can run: skip first, as newTab would.
	if skipReason != "" {
		t.Skip(skipReason)
	}
	other := creds
	other.APIKeySecret = "not-this-servers-secret"
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	tests := []struct {
		name string
		bad  func(grants token.Grants) string
		code string
	}{
		{"bad signature", func(g token.Grants) string { return mintToken(t, other, nil, "alice", g, time.Minute) }, "20107"},
		{"expired", func(g token.Grants) string { return mintToken(t, creds, past, "alice", g, time.Minute) }, "20104"},
		{"another identity", func(g token.Grants) string { return mintToken(t, creds, nil, "mallory", g, time.Minute) }, "20101"},
	}
	for _, p := range products {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				ctx := openPage(t, 20*time.Second, p.path, p.global)
				good := mintToken(t, creds, nil, "alice", p.grants, time.Minute)
				events := strings.Join(call[[]string](t, ctx, "refused", wsURL, good, tt.bad(p.grants)), " ")
				rejected := "update:rejected:51130" // twilio-sync's "Updated token was rejected by server"
				if p.name == "conversations" {
					rejected = "update:rejected:401:" + tt.code
				}
				for _, want := range []string{rejected, "connectionError:" + tt.code, "state:denied"} {
					if !strings.Contains(events, want) {
						t.Errorf("the SDK reported %q, want %s", events, want)
					}
				}
				if expired := strings.Contains(events, "tokenExpired"); expired != (tt.code == "20104") {
					t.Errorf("the SDK reported %q: tokenExpired %v, want it only for an expired token", events, expired)
				}
			})
		}
	}
}

// TestConnectRefused: connecting with an expired token gives tokenExpired,
// with a token signed by another secret the error the SDK reports for an
// invalid token; either way connectionError carries Twilio's code, the
// client goes to denied and never to connected, and the page's promise
// settles (no hang).
func TestConnectRefused(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	other := creds
	other.APIKeySecret = "not-this-servers-secret"
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	tests := []struct {
		name    string
		bad     func(grants token.Grants) string
		code    string
		expired bool
	}{
		{"expired", func(g token.Grants) string { return mintToken(t, creds, past, "alice", g, time.Minute) }, "20104", true},
		{"bad signature", func(g token.Grants) string { return mintToken(t, other, nil, "alice", g, time.Minute) }, "20107", false},
	}
	for _, p := range products {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				ctx := openPage(t, 20*time.Second, p.path, p.global)
				events := strings.Join(call[[]string](t, ctx, "connectOnly", wsURL, tt.bad(p.grants)), " ")
				for _, want := range []string{"connectionError:" + tt.code, "state:denied"} {
					if !strings.Contains(events, want) {
						t.Errorf("the SDK reported %q, want %s", events, want)
					}
				}
				if strings.Contains(events, "state:connected") || strings.Contains(events, "initialized") {
					t.Errorf("the SDK reported %q: connected with a refused token", events)
				}
				if got := strings.Contains(events, "tokenExpired"); got != tt.expired {
					t.Errorf("the SDK reported %q: tokenExpired %v, want %v", events, got, tt.expired)
				}
			})
		}
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
	return mintToken(t, creds, nil, identity, chatGrants, ttl)
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
