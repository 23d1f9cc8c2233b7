// Package e2e drives tokenlab's page in headless Chromium against the real
// binary: bin/tokenlab runs as a subprocess in open demo mode on a free
// loopback port, one browser serves the whole run (TestMain), and each test
// opens its own tab in its own browser context, so cookies never leak from
// one test to the next.
//
// The tests skip, saying how to fix it, when Chromium or the binary is
// missing, except when the CI variable is set: there they fail instead.
// Set TOKENLAB_SCREENSHOT=path to save a screenshot of the page with a live
// token (the README's docs/screenshot.png is made that way).
package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web/e2e/browser"
)

var (
	// skipReason is set when the environment cannot run browser tests.
	skipReason string
	// baseURL is the running server, e.g. http://127.0.0.1:41234.
	baseURL string
	// adminToken enables the operator endpoints of the server under test.
	adminToken string
	// browserCtx holds the one browser of the run.
	browserCtx context.Context
	// tlsURL is a second server of the run, serving HTTPS and WSS with a
	// self-signed certificate the browser trusts by its key's pin.
	tlsURL string
	// appURL is "your app": a page on another origin of the same site
	// (http://localhost:PORT), listed in the server's
	// TOKENLAB_ALLOWED_ORIGINS, that calls tokenlab's API from there.
	appURL string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	chromium, bin, why := findTools()
	if why != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: CI is set, so browser tests must run, but "+why)
			return 1
		}
		skipReason = why
		return m.Run()
	}

	stopApp, err := startApp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the app's server:", err)
		return 1
	}
	defer stopApp()
	stop, err := startServer(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting", bin+":", err)
		return 1
	}
	defer stop()
	pin, stopTLS, err := startTLSServer(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting", bin, "with TLS:", err)
		return 1
	}
	defer stopTLS()

	ctx, stopBrowser, err := browser.Start(chromium,
		chromedp.WindowSize(1280, 900),
		// Trust the TLS server's certificate, and only it, by its key.
		chromedp.Flag("ignore-certificate-errors-spki-list", pin),
		// The cross-site embed test's two sites, on loopback.
		chromedp.Flag("host-resolver-rules", "MAP "+crossSiteName+" 127.0.0.1, MAP "+appSiteName+" 127.0.0.1"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopBrowser()
	browserCtx = ctx
	return m.Run()
}

// findTools locates Chromium and the tokenlab binary, or says what is
// missing and how to get it.
func findTools() (chromium, bin, why string) {
	if chromium, why = browser.Chromium(); why != "" {
		return "", "", why
	}
	if bin, why = browser.Binary(filepath.Join("..", "..", "bin", "tokenlab")); why != "" {
		return "", "", why
	}
	return chromium, bin, ""
}

// server is the tokenlab binary under test (browser.Tokenlab), with what
// the tests reach it by.
type server struct {
	browser.Tokenlab
	// env is added to the server's environment; url is where it serves
	// once started (http://127.0.0.1:PORT, or https://localhost:PORT).
	env    []string
	url    string
	client *http.Client
}

// srv is the run's server.
var srv *server

func startServer(bin string) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "tokenlab-e2e-")
	if err != nil {
		return nil, err
	}
	adminToken = "e2e-admin-" + rand.Text()
	srv = &server{Tokenlab: browser.Tokenlab{Bin: bin, Dir: dir}, client: http.DefaultClient}
	if err := srv.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	baseURL = srv.url
	return func() {
		srv.stop(false)
		os.RemoveAll(dir)
	}, nil
}

// start runs the binary on s.Port (0: a free one, remembered for restarts)
// and returns once it answers /healthz.
func (s *server) start() error {
	// The state directory keeps the demo account's random session key, so
	// that a restart keeps everyone signed in, as the tests of restarts
	// expect.
	s.Env = append([]string{"TOKENLAB_ADMIN_TOKEN=" + adminToken,
		"TOKENLAB_ALLOWED_ORIGINS=" + appURL, "TOKENLAB_STATE_DIR=" + s.Dir}, s.env...)
	if err := s.Start(); err != nil {
		return err
	}
	s.url = "http://127.0.0.1:" + s.Port
	if slices.Contains(s.env, "TOKENLAB_TLS=on") {
		s.url = "https://localhost:" + s.Port
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := s.client.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			s.stop(false)
			return fmt.Errorf("GET /healthz did not answer 200 within 10s (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server: gracefully (SIGTERM, as an operator's restart
// does) or at once.
func (s *server) stop(graceful bool) { s.Stop(graceful) }

// restartServer stops the server gracefully and starts it again on the
// same port, with the same configuration (sessions survive).
func restartServer(t *testing.T) {
	t.Helper()
	srv.stop(true)
	if err := srv.start(); err != nil {
		t.Fatalf("restarting the server: %v", err)
	}
	baseURL = srv.url
}

// newTab opens a tab in a fresh browser context (its own cookies) and
// returns it with a context bounded by limit for the test's actions.
func newTab(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return startTab(t, tab, limit)
}

// siblingTab opens another tab in the same browser context as tab: it
// shares the cookies, like a second tab of the same user.
func siblingTab(t *testing.T, tab context.Context, limit time.Duration) context.Context {
	t.Helper()
	sib, cancel := chromedp.NewContext(tab)
	t.Cleanup(cancel)
	return startTab(t, sib, limit)
}

func startTab(t *testing.T, tab context.Context, limit time.Duration) context.Context {
	t.Helper()
	// Create the target without a deadline (see chromedp.Run), then bound
	// everything the test does with it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	// The page's console (the Go runtime writes panics there) is shown
	// when the test fails.
	var mu sync.Mutex
	var lines []string
	listenCtx, stopListening := context.WithCancel(tab)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(listenCtx) {
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, m.String())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stopListening()
		<-done
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("page console:\n%s", strings.Join(lines, "\n"))
		}
	})
	ctx, cancel := context.WithTimeout(tab, limit)
	t.Cleanup(cancel)
	return ctx
}

// open loads the page and waits until its program is running.
func open(t *testing.T, ctx context.Context) {
	t.Helper()
	openAt(t, ctx, baseURL)
}

// recorder keeps every tokenlab event and every status the page reports,
// sampled every 20 ms inside the page, so a short "expired" cannot slip
// between two samples taken over the DevTools connection.
const recorder = `(() => {
  window.__rec = {events: [], statuses: {}, samples: 0};
  for (const name of ["tokenlab:token", "tokenlab:notice", "tokenlab:error"]) {
    window.addEventListener(name, (e) => window.__rec.events.push({name, detail: e.detail, at: Date.now()}));
  }
  setInterval(() => {
    if (!window.tokenlab) return;
    const s = window.tokenlab.snapshot();
    window.__rec.statuses[s.status] = (window.__rec.statuses[s.status] || 0) + 1;
    window.__rec.samples++;
  }, 20);
})()`

// snapshot is window.tokenlab.snapshot(), the page's test contract.
type snapshot struct {
	Identity      string   `json:"identity"`
	JTI           string   `json:"jti"`
	ExpiresAt     int64    `json:"expiresAt"`
	SecondsLeft   float64  `json:"secondsLeft"`
	Grants        []string `json:"grants"`
	Renewals      int      `json:"renewals"`
	Status        string   `json:"status"`
	Connected     bool     `json:"connected"`
	ClockOffsetMS int64    `json:"clockOffsetMs"`
	SessionID     string   `json:"sessionId"`
}

func snap(t *testing.T, ctx context.Context) snapshot {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[snapshot](`window.tokenlab.snapshot()`))
	if err != nil {
		t.Fatalf("snapshot(): %v", err)
	}
	return s
}

// event is one recorded tokenlab:* event.
type event struct {
	Name   string         `json:"name"`
	Detail map[string]any `json:"detail"`
	At     int64          `json:"at"`
}

type recording struct {
	Events   []event        `json:"events"`
	Statuses map[string]int `json:"statuses"`
	Samples  int            `json:"samples"`
}

func recorded(t *testing.T, ctx context.Context) recording {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[recording](`window.__rec`))
	if err != nil {
		t.Fatalf("reading the page's recording: %v", err)
	}
	return r
}

// signIn fills the form from the keyboard and submits it.
func signIn(t *testing.T, ctx context.Context, user string, ttl int, extra ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), "any password works in demo mode"),
		chromedp.SendKeys(chromedp.CSS(`#ttl`), fmt.Sprint(ttl)),
	}
	steps = append(steps, extra...)
	steps = append(steps, chromedp.Click(chromedp.CSS(`#login-submit`)))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().jti !== ""`, 10*time.Second)
}

// waitFor polls a JavaScript condition in the page.
func waitFor(t *testing.T, ctx context.Context, cond string, limit time.Duration) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// eval runs JavaScript in the page for its side effects.
func eval(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
}

func text(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return s
}

func tokenEvents(r recording) []event {
	var out []event
	for _, e := range r.Events {
		if e.Name == "tokenlab:token" {
			out = append(out, e)
		}
	}
	return out
}

func triggers(evs []event) string {
	var s []string
	for _, e := range evs {
		s = append(s, fmt.Sprint(e.Detail["trigger"]))
	}
	return strings.Join(s, ", ")
}
