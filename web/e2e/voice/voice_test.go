// Package voice_test runs Twilio's real Voice SDK bundle
// (@twilio/voice-sdk, pinned in ../sdk/package-lock.json, installed by
// `npm ci` into ../sdk/node_modules) in headless Chromium against the real
// bin/tokenlab over TLS, offline: a Device given `chunderw:
// "localhost:PORT"` registers, is warned tokenRefreshMs before its token
// expires, updates its token, is refused the ways Twilio refuses it, and
// survives a server restart. Short ttls.
//
// The server runs with TOKENLAB_TLS=on and a state directory; its
// self-signed certificate is made there first, so the browser starts
// trusting exactly that key (Chromium's --ignore-certificate-errors-spki-list,
// as web/e2e does). Chromium resolves no name but localhost, so nothing
// can reach Twilio; each test also checks that the page asked for nothing
// but the app's origin and tokenlab.
//
// The tests skip, saying how to fix it, when Chromium, the binary or the
// SDK is missing, except when the CI variable is set: there they fail.
package voice_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web/e2e/browser"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/tlscert"
	"github.com/tokenlab/tokenlab/shared/token"
)

// bundle is the SDK's browser bundle, as npm ci installs it.
const bundle = "../sdk/node_modules/@twilio/voice-sdk/dist/twilio.min.js"

var (
	// labCert is the server's certificate, for the test's own HTTPS calls.
	labCert    *x509.Certificate
	skipReason string
	browserCtx context.Context
	// srv is tokenlab; host is what the Device's chunderw option names.
	srv  *browser.Tokenlab
	host string
	// appURL serves voice.html, as a user's app would, from another origin.
	appURL string
	// creds are the server's: it runs with the built-in demo account.
	creds mint.Credentials
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	chromium, bin, why := findTools()
	if why != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "voice: CI is set, so the Voice SDK tests must run, but "+why)
			return 1
		}
		skipReason = why
		return m.Run()
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		fmt.Fprintln(os.Stderr, "voice: the demo configuration:", err)
		return 1
	}
	creds = cfg.Twilio
	app := httptest.NewServer(appHandler())
	defer app.Close()
	appURL = app.URL

	dir, err := os.MkdirTemp("", "tokenlab-voice-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "voice:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cert, err := tlscert.SelfSigned(tlscert.Names(), dir, time.Now())
	labCert = cert.Leaf
	if err != nil {
		fmt.Fprintln(os.Stderr, "voice: the certificate:", err)
		return 1
	}
	srv = &browser.Tokenlab{Bin: bin, Dir: dir, Env: []string{
		"TOKENLAB_TLS=on", "TOKENLAB_STATE_DIR=" + dir, "TOKENLAB_ALLOWED_ORIGINS=" + appURL}}
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "voice: starting", bin+":", err)
		return 1
	}
	defer srv.Stop(true)
	host = "localhost:" + srv.Port

	ctx, stopBrowser, err := browser.Start(chromium,
		// Trust tokenlab's certificate, and only it, by its key's pin.
		chromedp.Flag("ignore-certificate-errors-spki-list", cert.SPKIPin()),
		// Offline: no name resolves but localhost and 127.0.0.1.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		// device.connect() opens the microphone before it signals: a fake
		// one, granted without a prompt.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "voice:", err)
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
	if bin, why = browser.Binary(filepath.Join("..", "..", "..", "bin", "tokenlab")); why != "" {
		return "", "", why
	}
	return chromium, bin, ""
}

// appHandler serves the app's page and the SDK bundle.
func appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "voice.html") })
	mux.HandleFunc("GET /twilio.min.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, bundle) })
	mux.HandleFunc("GET /silence.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(silence())
	})
	return mux
}

// silence is a tenth of a second of 8 kHz, 8-bit mono silence as a WAV
// file: the Device's tones, kept local.
func silence() []byte {
	const n = 800
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	b := append([]byte("RIFF"), le32(36+n)...)
	b = append(b, "WAVEfmt "...)
	b = append(b, le32(16)...)
	b = append(b, 1, 0, 1, 0) // PCM, one channel
	b = append(b, le32(8000)...)
	b = append(b, le32(8000)...)
	b = append(b, 1, 0, 8, 0) // block align 1, 8 bits
	b = append(b, "data"...)
	b = append(b, le32(n)...)
	return append(b, bytes.Repeat([]byte{128}, n)...)
}

// offline records every request the tab makes to a host other than the
// app's and tokenlab's; check reports them.
type offline struct {
	mu    sync.Mutex
	hosts []string
}

func (o *offline) note(raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "data" || u.Scheme == "blob" {
		return
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
		o.mu.Lock()
		o.hosts = append(o.hosts, u.Scheme+"://"+u.Host)
		o.mu.Unlock()
	}
}

func (o *offline) check(t *testing.T) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.hosts) > 0 {
		t.Errorf("the page reached for hosts other than the app and tokenlab: %v", o.hosts)
	}
}

// frames prints each signaling message with TOKENLAB_E2E_FRAMES set: the
// source of docs/voice.md's examples.
func frames(from string, data []byte) {
	if os.Getenv("TOKENLAB_E2E_FRAMES") != "" {
		fmt.Fprintf(os.Stderr, "%s: %q\n", from, data)
	}
}

// newTab opens the app's page in a fresh browser context, bounded by
// limit, and checks at the end that it stayed offline.
func newTab(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	o := &offline{}
	if err := chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			o.note(ev.Request.URL)
		case *network.EventWebSocketCreated:
			o.note(ev.URL)
		case *network.EventWebSocketFrameSent:
			frames("client", ev.Response.PayloadData)
		case *network.EventWebSocketFrameReceived:
			frames("server", ev.Response.PayloadData)
		}
	}); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		return err
	})); err != nil {
		t.Fatalf("watching the tab's requests: %v", err)
	}
	t.Cleanup(func() { o.check(t) })
	ctx, cancelT := context.WithTimeout(tab, limit)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate(appURL+"/"),
		chromedp.Poll[chromedp.Void](`typeof Twilio !== "undefined" && typeof Twilio.Device === "function" && typeof window.register === "function"`,
			chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("loading the app's page: %v", err)
	}
	return ctx
}

// voiceToken mints a Voice token for identity on clock now (nil: now).
func voiceToken(t *testing.T, c mint.Credentials, now func() time.Time, identity string, ttl time.Duration, grant *token.VoiceGrant) string {
	t.Helper()
	m, err := mint.New(c, now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(identity, token.Grants{Voice: grant}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// incoming is a voice grant that allows incoming calls, as
// `tokenlab mint --voice-incoming` makes.
func incoming() *token.VoiceGrant {
	return &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}
}

// eval runs js (a promise) in the page and returns what it resolved with.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%.80s: %v", js, err)
	}
	return v
}

// event is one entry of a scenario's log: its name and seconds since the
// scenario started.
type event struct {
	name string
	at   float64
}

func parse(t *testing.T, log []string) []event {
	t.Helper()
	evs := make([]event, len(log))
	for i, e := range log {
		name, at, _ := strings.Cut(e, "@")
		f, err := strconv.ParseFloat(at, 64)
		if err != nil && at != "" {
			t.Fatalf("log entry %q", e)
		}
		evs[i] = event{name, f}
	}
	return evs
}

// find returns the events called name.
func find(evs []event, name string) []event {
	var out []event
	for _, e := range evs {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

func q(s string) string { return strconv.Quote(s) }

// TestVoiceRegisterWarnExpire: a Device registers with a tokenlab token,
// is warned tokenRefreshMs before exp (the ttl came in connected), and at
// exp hears AccessTokenExpired (20104) and is unregistered.
func TestVoiceRegisterWarnExpire(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	tok := voiceToken(t, creds, nil, "alice", 6*time.Second, incoming())
	evs := parse(t, eval[[]string](t, ctx, fmt.Sprintf("window.register(%s, %s, 2000, %q, 1, 15000)", q(host), q(tok), "unregistered")))
	t.Logf("events: %v", evs)
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = e.name
	}
	got := strings.Join(names, " ")
	if want := regexp.MustCompile(`^registering registered register:resolved tokenWillExpire error:20104 unregistered$`); !want.MatchString(got) {
		t.Fatalf("the Device reported %q, want registered, warned, then 20104 and unregistered", got)
	}
	warn, expired := find(evs, "tokenWillExpire")[0].at, find(evs, "error:20104")[0].at
	// exp is in whole seconds, and connected's ttl too: the warning comes
	// 2 s (tokenRefreshMs) to 3 s before the expiry.
	if gap := expired - warn; gap < 1.7 || gap > 3.5 {
		t.Errorf("tokenWillExpire came %.1f s before the expiry, want about tokenRefreshMs (2 s)", gap)
	}
	if expired < 4.5 {
		t.Errorf("20104 came %.1f s after start, before the 6 s token expired", expired)
	}
}

// joined returns the events' names, space-separated.
func joined(evs []event) string {
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = e.name
	}
	return strings.Join(names, " ")
}

// TestVoiceUpdateToken: updateToken is accepted (the Device stays
// registered past the first token's exp, and the expiry comes at the new
// token's), but the SDK does not arm tokenWillExpire again: it arms it
// only on connected, which Twilio's service sends when a stream connects,
// not for an update. tokenlab answers the same way, so this is what an app
// meets in production. After the expiry, updateToken makes the stream
// connected again: the SDK arms its warning once more and re-registers.
func TestVoiceUpdateToken(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	first := voiceToken(t, creds, nil, "alice", 5*time.Second, incoming())
	second := voiceToken(t, creds, nil, "alice", 9*time.Second, incoming())
	third := voiceToken(t, creds, nil, "alice", 14*time.Second, incoming())
	js := fmt.Sprintf("window.updates(%s, %s, [%s, %s], 2000, 15500)", q(host), q(first), q(second), q(third))
	evs := parse(t, eval[[]string](t, ctx, js))
	t.Logf("events: %v", evs)
	got := joined(evs)
	// The app calls updateToken in its error handler, before the offline
	// that follows the 20104 arrives.
	want := regexp.MustCompile(`^registering registered tokenWillExpire updateToken error:20104 updateToken unregistered registering registered tokenWillExpire error:20104 unregistered`)
	if !want.MatchString(got) {
		t.Fatalf("the Device reported %q, want: registered, one warning, update, the second token's expiry with no warning before it, update, registered again, warned, expired", got)
	}
	warns, expiries := find(evs, "tokenWillExpire"), find(evs, "error:20104")
	if expiries[0].at < 7 {
		t.Errorf("20104 came %.1f s after start: before the updated token's exp (9 s), so the update was not taken", expiries[0].at)
	}
	if warns[1].at < expiries[0].at {
		t.Errorf("a second tokenWillExpire came at %.1f s, before the second token expired (%.1f s): the SDK re-armed after updateToken", warns[1].at, expiries[0].at)
	}
}

// TestVoiceRefused: each token Twilio would refuse gives the app the
// Device's error event with the code the SDK maps the signaling code to,
// the Device ends unregistered, and register() settles (rejected).
func TestVoiceRefused(t *testing.T) {
	// The table mints tokens with the run's credentials, which are set
	// only when the suite can run: skip first, as newTab would.
	if skipReason != "" {
		t.Skip(skipReason)
	}
	other := creds
	other.APIKeySecret = "not-this-servers-secret"
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	tests := []struct {
		name, token, code string
	}{
		{"bad signature", voiceToken(t, other, nil, "alice", time.Minute, incoming()), "20101"},
		{"expired", voiceToken(t, creds, past, "alice", time.Minute, incoming()), "20104"},
		{"no voice grant", voiceToken(t, creds, nil, "alice", time.Minute, nil), "20101"},
		{"incoming not allowed", voiceToken(t, creds, nil, "alice", time.Minute, &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP00000000000000000000000000000000"}}), "20101"},
		{"not a token", "not-a-token", "20101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newTab(t, 20*time.Second)
			evs := parse(t, eval[[]string](t, ctx, fmt.Sprintf("window.register(%s, %s, 0, %q, 1, 8000)", q(host), q(tt.token), "register:rejected")))
			got := joined(evs)
			if !regexp.MustCompile(`^registering error:` + tt.code + ` unregistered register:rejected$`).MatchString(got) {
				t.Errorf("the Device reported %q, want error %s, unregistered, register() rejected", got, tt.code)
			}
		})
	}
}

// TestVoiceConnectRefused: device.connect() gets a clean error at once
// (calls are not emulated), never a hang.
func TestVoiceConnectRefused(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	tok := voiceToken(t, creds, nil, "alice", time.Minute, &token.VoiceGrant{
		Incoming: &token.VoiceIncoming{Allow: true},
		Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP00000000000000000000000000000000"}})
	got := strings.Join(eval[[]string](t, ctx, fmt.Sprintf("window.call(%s, %s)", q(host), q(tok))), " ")
	if !regexp.MustCompile(`registered@\S+ call:error:31005:[^@]*calls are not emulated by tokenlab[^@]* call:disconnect`).MatchString(got) {
		t.Errorf("the call reported %q, want error 31005 saying calls are not emulated by tokenlab, then disconnect", got)
	}
}

// TestVoiceServerRestart: a registered Device outlives a restart of
// tokenlab (SIGTERM, then the same port, state directory and
// certificate): it reconnects, listens again and re-registers by itself.
func TestVoiceServerRestart(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	tok := voiceToken(t, creds, nil, "alice", 2*time.Minute, incoming())
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("window.startReconnect(%s, %s, 30000)", q(host), q(tok))),
		chromedp.Poll[chromedp.Void](`window.reconnectLog.some((e) => e.startsWith("registered@"))`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("registering: %v", err)
	}
	srv.Stop(true)
	if err := srv.Start(); err != nil {
		t.Fatalf("restarting tokenlab on port %s: %v", srv.Port, err)
	}
	got := joined(parse(t, eval[[]string](t, ctx, "window.reconnected")))
	// The last unregistered is the page's destroy().
	if !regexp.MustCompile(`^registering registered unregistered registering registered unregistered$`).MatchString(got) {
		t.Errorf("the Device reported %q across the restart, want registered, unregistered, registered again, and no error", got)
	}
}

// TestReadmeExample runs README's Voice example as it is written, in the
// app's page, against the server under test: it must register and keep
// its token fresh past the point where the SDK stops warning (the third
// and fourth tokens come from the example's own timer), with no error.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Twilio's Voice SDK, offline\n.*?```js\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no js example under \"Twilio's Voice SDK, offline\"")
	}
	example := string(m[1])
	const importLine = `import { Device } from "@twilio/voice-sdk";`
	for _, want := range []string{importLine, `"https://localhost:8080/token"`, `chunderw: "localhost:8080"`, `publishEvents: false,`} {
		if !strings.Contains(example, want) {
			t.Fatalf("the example changed shape (no %s); update this test:\n%s", want, example)
		}
	}
	// The page loads the bundle as a script, not a module; the server runs
	// on its own port; the page's silent sounds keep the Device offline.
	example = strings.Replace(example, importLine, "const { Device } = Twilio;", 1)
	example = strings.ReplaceAll(example, "localhost:8080", host)
	example = strings.Replace(example, "publishEvents: false,", "publishEvents: false, sounds,", 1)
	js := `new Promise((resolve, reject) => {
  const realFetch = window.fetch;
  let fetches = 0;
  window.fetch = (url, ...rest) => { if (String(url).endsWith("/token")) fetches++; return realFetch(url, ...rest); };
  (async () => {` + example + `
    const errors = [];
    device.on("error", (e) => errors.push(e.code));
    const check = setInterval(() => {
      if (fetches < 4 && errors.length === 0) return;
      clearInterval(check);
      clearTimeout(timer);
      const state = device.state;
      device.destroy();
      resolve({ fetches, errors, state });
    }, 50);
  })().catch((e) => reject(String(e)));
})`
	ctx := newTab(t, 40*time.Second)
	type outcome struct {
		Fetches int    `json:"fetches"`
		Errors  []int  `json:"errors"`
		State   string `json:"state"`
	}
	got := eval[outcome](t, ctx, js)
	if got.Fetches < 4 || len(got.Errors) > 0 || got.State != "registered" {
		t.Errorf("README's example: %+v, want four tokens fetched, no error, still registered", got)
	}
}

// TestVoiceLab drives the lab against a real Device: warned now, the Device
// fires tokenWillExpire at once (its token has two minutes left); a
// session signed in as the Device's identity expired now, or revoked, by
// an operator, and
// the Device hears AccessTokenExpired (20104) at once, as at a real
// expiry, long before its token's own exp; its socket dropped without a
// close frame (1006), the Device connects and registers again by itself.
func TestVoiceLab(t *testing.T) {
	// The suite's server and its certificate exist only when it can run.
	if skipReason != "" {
		t.Skip(skipReason)
	}
	pool := x509.NewCertPool()
	pool.AddCert(labCert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + host
	for _, action := range []string{"warn", "expire", "revoke", "drop"} {
		t.Run(action, func(t *testing.T) {
			identity := "lab-" + action
			resp, err := client.Post(base+"/token", "application/json", strings.NewReader(`{"username":"`+identity+`","password":"pw","ttl":600}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("sign-in: %s", resp.Status)
			}
			resp, err = client.Get(base + "/admin/sessions")
			if err != nil {
				t.Fatal(err)
			}
			var list struct {
				Sessions []struct{ ID, Identity string } `json:"sessions"`
			}
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			id := ""
			for _, s := range list.Sessions {
				if s.Identity == identity {
					id = s.ID
				}
			}
			if err != nil || id == "" {
				t.Fatalf("no session for %s in the operator's list: %v", identity, err)
			}

			ctx := newTab(t, 30*time.Second)
			tok := voiceToken(t, creds, nil, identity, 2*time.Minute, incoming())
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("window.startReconnect(%s, %s, 20000)", q(host), q(tok))),
				chromedp.Poll[chromedp.Void](`window.reconnectLog.some((e) => e.startsWith("registered@"))`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				t.Fatalf("registering: %v", err)
			}
			var order io.Reader
			if action == "drop" {
				order = strings.NewReader(`{"code":1006}`)
			}
			resp, err = client.Post(base+"/admin/sessions/"+id+"/"+action, "application/json", order)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("%s: %s %s", action, resp.Status, body)
			}
			want := `window.reconnectLog.some((e) => e.startsWith("error:20104@"))`
			switch action {
			case "warn":
				want = `window.reconnectLog.some((e) => e.startsWith("tokenWillExpire@"))`
			case "drop":
				want = `window.reconnectLog.filter((e) => e.startsWith("registered@")).length >= 2`
			}
			if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](want, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
				log := eval[[]string](t, ctx, "Promise.resolve(window.reconnectLog)")
				t.Fatalf("after the lab's %s the Device reported %v, want %s", action, log, want)
			}
		})
	}
}
