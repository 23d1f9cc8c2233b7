package e2e_test

import (
	"context"
	"crypto/tls"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hostileCSS is a host page's style that would wreck the panel if it
// reached into it: the shadow root must keep it out.
const hostileCSS = `<style>* { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
button { display: none !important; } .card, h2 { border-radius: 0; }</style>`

// embedHost serves a host page on the app's origin that loads the embed
// from ?tokenlab= (tokenlab's origin), with ?csp= as its
// Content-Security-Policy and ?hostile=1 adding hostileCSS.
func embedHost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if csp := q.Get("csp"); csp != "" {
			w.Header().Set("Content-Security-Policy", csp)
		}
		style := ""
		if q.Get("hostile") == "1" {
			style = hostileCSS
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>host app</title>` + style +
			`<script src="` + html.EscapeString(q.Get("tokenlab")) + `/embed.js"></script></head>
<body><p id="app">host app</p><h2 class="card" id="host-card">the app's own card</h2></body></html>`))
	})
}

// openEmbedHost opens the host page and starts recording the embed's
// tokens (onToken) and events.
func openEmbedHost(t *testing.T, ctx context.Context, extra string) {
	t.Helper()
	navigate(t, ctx, appURL+"/embed?tokenlab="+tokenlabOrigin()+extra)
	eval(t, ctx, `window.__got = {tokens: [], details: [], events: [], errors: []};
		for (const name of ["tokenlab:token", "tokenlab:notice", "tokenlab:error"])
			window.addEventListener(name, (e) => window.__got.events.push({name, detail: e.detail}));`)
}

// jwtExp is a page-side function returning a JWT's exp claim.
const jwtExp = `((token) => JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp)`

// embedJS starts the embed with the options' JavaScript and resolves to
// the first token, or to "rejected: message".
func embedJS(options string) string {
	return `(async () => {
		try {
			return await tokenlab.embed(Object.assign(` + options + `, {onToken(token, detail) {
				window.__got.tokens.push(token); window.__got.details.push(detail);
			}}));
		} catch (e) { return "rejected: " + e.message; }
	})()`
}

// TestEmbedOnAnotherOriginHandsTheAppItsTokens puts the embed into a page
// on another origin, as an app does with one script tag: the first token
// comes through the promise, each renewal through onToken and the
// tokenlab:token event, snapshot() names the session, the socket is live
// across origins, and a test hook acts on the embed's own session.
func TestEmbedOnAnotherOriginHandsTheAppItsTokens(t *testing.T) {
	ctx := newTab(t, 40*time.Second)
	openEmbedHost(t, ctx, "&hostile=1")
	first := awaited(t, ctx, embedJS(`{username: "embeduser", password: "pw", ttl: 3}`))
	if strings.Count(first, ".") != 2 || strings.HasPrefix(first, "rejected") {
		t.Fatalf("tokenlab.embed resolved to %q, want a JWT", first)
	}
	s := snap(t, ctx)
	if s.Identity != "embeduser" || s.SessionID == "" || s.JTI == "" {
		t.Fatalf("snapshot() = %+v, want embeduser's token and its session id", s)
	}
	if got := awaited(t, ctx, `(async () => JSON.parse(atob(`+strconv.Quote(first)+`.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).jti)()`); got != s.JTI {
		t.Errorf("the promise's token has jti %q, snapshot() %q", got, s.JTI)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)

	// The 3 s token renews by itself, through onToken and the event.
	waitFor(t, ctx, `window.__got.tokens.length >= 1`, 10*time.Second)
	checkRenewal := func(i int) {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const jwtExp = `+jwtExp+`;
			const g = window.__got, i = `+strconv.Itoa(i)+`, d = g.details[i], token = g.tokens[i];
			const ev = g.events.filter((e) => e.name === "tokenlab:token")[i];
			const s = window.tokenlab.snapshot();
			if (!ev) return "no tokenlab:token event for renewal " + i;
			if (ev.detail.token !== token) return "the event's token differs from onToken's";
			if (d.identity !== "embeduser" || d.sessionId !== s.sessionId) return "detail " + JSON.stringify(d);
			if (d.expiresAt !== jwtExp(token)) return "expiresAt " + d.expiresAt + " is not the token's exp in unix seconds, " + jwtExp(token);
			if (token === `+strconv.Quote(first)+`) return "onToken got the first token again";
			return "ok";
		})()`))
		if err != nil || ok != "ok" {
			t.Errorf("renewal %d: %q %v", i, ok, err)
		}
	}
	checkRenewal(0)

	// expireNow acts on the embed's own session: a renewal follows, via
	// onToken.
	n := len(recordedTokens(t, ctx))
	if got := awaited(t, ctx, `(async () => { await tokenlab.test.expireNow(); return "ok"; })()`); got != "ok" {
		t.Fatalf("expireNow: %q", got)
	}
	waitFor(t, ctx, `window.__got.tokens.length > `+strconv.Itoa(n), 10*time.Second)
	checkRenewal(n)
	got := recordedEventTypes(t, ctx)
	for _, want := range []string{"tokenlab:notice ready", "tokenlab:notice connected", "tokenlab:notice lab", "tokenlab:notice expired"} {
		if !strings.Contains(got, want) {
			t.Errorf("events %s lack %q", got, want)
		}
	}
	if strings.Contains(got, "tokenlab:error") {
		t.Errorf("events %s hold an error", got)
	}
}

// TestEmbedSignsInAgainAfterTheSessionEnds: once the embed's session has
// ended (the lab drops its socket with 4002, or revokes it),
// tokenlab.embed signs in anew with the options given, without a page
// load: a new first token for a new session, which snapshot() and the
// panel show, and its renewals through the new onToken. While a sign-in
// is in flight or its session lives, a call returns its promise.
func TestEmbedSignsInAgainAfterTheSessionEnds(t *testing.T) {
	ctx := newTab(t, 60*time.Second)
	openEmbedHost(t, ctx, "")
	eval(t, ctx, `window.__loaded = true; // a page load would lose it
		window.__embed = (options) => tokenlab.embed(Object.assign(options, {onToken(token, detail) {
			window.__got.tokens.push(token); window.__got.details.push(detail);
		}}));`)

	// Two calls in one turn are one sign-in, with the first call's options.
	if got := awaited(t, ctx, `(async () => {
		const a = window.__p1 = __embed({username: "again-a", password: "pw", ttl: 600});
		const b = __embed({username: "again-x", password: "pw"});
		return [a === b, await a === await b, tokenlab.snapshot().identity].join(" ");
	})()`); got != "true true again-a" {
		t.Fatalf("two calls while signing in: same promise, same token, identity = %q, want true true again-a", got)
	}
	first := awaited(t, ctx, `window.__p1`)
	s1 := snap(t, ctx)
	waitFor(t, ctx, `tokenlab.snapshot().connected`, 10*time.Second)
	if got := text(t, ctx, `String(__embed({username: "again-x", password: "pw"}) === window.__p1)`); got != "true" {
		t.Errorf("a call while the session lives returned a new promise")
	}

	// signInAgain calls tokenlab.embed once the session has ended and
	// checks the new session: a new token and session, shown by
	// snapshot() and the panel, in the same page.
	signInAgain := func(user string, p string, old snapshot, oldToken string) (snapshot, string) {
		t.Helper()
		token := awaited(t, ctx, `(async () => { try { return await `+p+`; } catch (e) { return "rejected: " + e.message; } })()`)
		if strings.Count(token, ".") != 2 || token == oldToken {
			t.Fatalf("tokenlab.embed after the session ended resolved to %.60q, want a new JWT", token)
		}
		s := snap(t, ctx)
		if s.Identity != user || s.SessionID == "" || s.SessionID == old.SessionID {
			t.Fatalf("signed in again as %s: snapshot() = %+v, want a new session (the last was %s)", user, s, old.SessionID)
		}
		if got := text(t, ctx, `String(`+jwtExp+`(`+strconv.Quote(token)+`) === tokenlab.snapshot().expiresAt && window.__loaded === true)`); got != "true" {
			t.Errorf("the new token is not the snapshot's, or the page was loaded again")
		}
		waitFor(t, ctx, `document.querySelector("tokenlab-panel").shadowRoot.getElementById("mini-identity").textContent === `+strconv.Quote(user), 5*time.Second)
		waitFor(t, ctx, `tokenlab.snapshot().connected`, 10*time.Second)
		return s, token
	}

	// The session reaches its absolute lifetime (4002): the embed stops,
	// and the next call signs in as the options now say.
	labOrder(t, s1.SessionID, "drop", `{"code":4002}`)
	waitFor(t, ctx, `window.__got.events.some((e) => e.detail.type === "signed_out") && tokenlab.snapshot().sessionId === ""`, 10*time.Second)
	s2, second := signInAgain("again-b", `__embed({username: "again-b", password: "pw", ttl: 600})`, s1, first)

	// The new session renews through the new onToken and the event.
	n := len(recordedTokens(t, ctx))
	waitFor(t, ctx, `Math.floor(Date.now()/1000) > tokenlab.snapshot().expiresAt - 600`, 3*time.Second)
	labOrder(t, s2.SessionID, "expire", "")
	waitFor(t, ctx, `window.__got.tokens.length > `+strconv.Itoa(n), 10*time.Second)
	if got := text(t, ctx, `(() => {
		const jwtExp = `+jwtExp+`, i = `+strconv.Itoa(n)+`, g = window.__got, d = g.details[i], token = g.tokens[i];
		const ev = g.events.filter((e) => e.name === "tokenlab:token").at(-1);
		if (token === `+strconv.Quote(second)+`) return "onToken got the first token again";
		if (d.sessionId !== `+strconv.Quote(s2.SessionID)+` || d.identity !== "again-b") return "detail " + JSON.stringify(d);
		if (d.expiresAt !== jwtExp(token)) return "expiresAt " + d.expiresAt + ", the token's exp " + jwtExp(token);
		if (!ev || ev.detail.token !== token || ev.detail.sessionId !== d.sessionId) return "the event " + JSON.stringify(ev && ev.detail);
		return "ok";
	})()`); got != "ok" {
		t.Errorf("the new session's renewal: %s", got)
	}

	// Revoked: a call from the revoked notice's own listener signs in
	// anew (the session is over by then).
	eval(t, ctx, `addEventListener("tokenlab:notice", (e) => {
		if (e.detail.type === "revoked" && !window.__p3) window.__p3 = __embed({username: "again-c", password: "pw", ttl: 600});
	});`)
	labOrder(t, s2.SessionID, "revoke", "")
	waitFor(t, ctx, `window.__p3 !== undefined`, 10*time.Second)
	signInAgain("again-c", `window.__p3`, s2, second)

	if got := recordedEventTypes(t, ctx); strings.Contains(got, "tokenlab:error") {
		t.Errorf("events hold an error: %s", got)
	}
}

func recordedTokens(t *testing.T, ctx context.Context) []string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__got.tokens`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recordedEventTypes(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__got.events.map((e) => e.name + " " + (e.detail.type || e.detail.code || "")).join(", ")`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inPanel evaluates JavaScript with root bound to the panel's shadow root.
func inPanel(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const root = document.querySelector("tokenlab-panel").shadowRoot; return String(`+js+`); })()`))
	if err != nil {
		t.Fatalf("in the panel, %s: %v", js, err)
	}
	return s
}

// TestEmbedPanelKeyboardAndIsolation checks the floating panel: it shows
// the token in a line, opens to the full view from the keyboard and
// closes with Escape; the host page's hostile CSS does not reach it, its
// own CSS does not reach the host page; the app can hide and show it.
func TestEmbedPanelKeyboardAndIsolation(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	openEmbedHost(t, ctx, "&hostile=1")
	if first := awaited(t, ctx, embedJS(`{username: "panel", password: "pw", ttl: 600, grants: {chat: {service_sid: "IS00000000000000000000000000000000"}}}`)); strings.HasPrefix(first, "rejected") {
		t.Fatal(first)
	}
	waitFor(t, ctx, `document.querySelector("tokenlab-panel").shadowRoot.getElementById("mini-countdown").textContent !== ""`, 5*time.Second)
	if got := inPanel(t, ctx, `[root.getElementById("mini-identity").textContent, root.getElementById("status").textContent, root.getElementById("mini-grants").textContent].join(" | ")`); got != "panel | valid | chat" {
		t.Errorf("the panel's line shows %q, want identity, status and grants", got)
	}
	if got := inPanel(t, ctx, `root.getElementById("full").hidden`); got != "true" {
		t.Errorf("the full view starts open: hidden = %s", got)
	}
	// Tab reaches the panel's bar (the host page has nothing else to
	// focus), Enter opens the full view.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got := inPanel(t, ctx, `root.activeElement && root.activeElement.id`); got != "toggle" {
		t.Fatalf("after Tab the focus is on %q, want the panel's bar", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if got := inPanel(t, ctx, `[root.getElementById("full").hidden, root.getElementById("toggle").getAttribute("aria-expanded"), root.querySelectorAll("#live-view .grant-card").length, root.querySelectorAll("#live-view .findings li").length > 0].join(" ")`); got != "false true 1 true" {
		t.Errorf("after Enter: %q, want the full view open with a grant card and lint", got)
	}
	// The SDK connections card is the page's own, for the embed's identity.
	if got := inPanel(t, ctx, `[root.getElementById("sdk-card").hidden, root.getElementById("sdk-identity").textContent].join(" ")`); got != "false panel" {
		t.Errorf("the embed's SDK card: hidden, identity = %q, want it shown for panel", got)
	}
	// The full view reads top to bottom as written: the connection line,
	// the live token, the chart, the timeline (the page's own grid
	// placement does not apply inside the panel).
	if got := inPanel(t, ctx, `["#full > .state", "#live", "#lifetime-card", "#timeline"].map((s) => root.querySelector(s).getBoundingClientRect().top).every((y, i, a) => i === 0 || a[i-1] < y)`); got != "true" {
		t.Errorf("the full view's parts are out of order")
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\x1b")); err != nil { // Escape
		t.Fatal(err)
	}
	if got := inPanel(t, ctx, `[root.getElementById("full").hidden, root.activeElement && root.activeElement.id].join(" ")`); got != "true toggle" {
		t.Errorf("after Escape: %q, want the full view closed and the focus on the bar", got)
	}

	// The host page's CSS stops at the shadow root.
	if got := inPanel(t, ctx, `(() => { const s = getComputedStyle(root.getElementById("toggle")); return [s.display, s.color === "rgb(255, 0, 0)", s.fontSize].join(" "); })()`); strings.Contains(got, "none") || strings.Contains(got, "true") || strings.Contains(got, "40px") {
		t.Errorf("the host page's CSS reached the panel's bar: display, red, size = %q", got)
	}
	// The panel's CSS stays inside: the host's own .card is untouched.
	if got := inPanel(t, ctx, `getComputedStyle(document.getElementById("host-card")).borderTopLeftRadius`); got != "0px" {
		t.Errorf("the panel's .card style reached the host page: radius %s", got)
	}

	// The app hides and shows the panel.
	eval(t, ctx, `tokenlab.panel.hide()`)
	if got := inPanel(t, ctx, `getComputedStyle(document.querySelector("tokenlab-panel")).display`); got != "none" {
		t.Errorf("after panel.hide() the panel's display is %q", got)
	}
	eval(t, ctx, `tokenlab.panel.show()`)
	if got := inPanel(t, ctx, `getComputedStyle(document.querySelector("tokenlab-panel")).display`); got != "block" {
		t.Errorf("after panel.show() the panel's display is %q", got)
	}
}

// TestEmbedLabDrawerActsOnItsSession opens the embed's lab drawer and
// orders "expire now" from it: the embed's session renews, through
// onToken.
func TestEmbedLabDrawerActsOnItsSession(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	openEmbedHost(t, ctx, "")
	if first := awaited(t, ctx, embedJS(`{username: "drawer", password: "pw", ttl: 600, panel: false}`)); strings.HasPrefix(first, "rejected") {
		t.Fatal(first)
	}
	if got := inPanel(t, ctx, `getComputedStyle(document.querySelector("tokenlab-panel")).display`); got != "none" {
		t.Errorf("with panel: false the panel's display is %q", got)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
	// A token's jti carries its second: the renewal must come in a later
	// one to be a new token.
	waitFor(t, ctx, `Math.floor(Date.now()/1000) > window.tokenlab.snapshot().expiresAt - 600`, 3*time.Second)
	inPanel(t, ctx, `(root.getElementById("toggle").click(), root.querySelector("#lab summary").click(), root.querySelector('#lab button[data-lab="expire"]').click(), "")`)
	waitFor(t, ctx, `window.__got.tokens.length >= 1`, 10*time.Second)
	if got := inPanel(t, ctx, `[...root.querySelectorAll("#lifetime .marker")].map((m) => m.dataset.kind).join(" ")`); !strings.Contains(got, "fault") {
		t.Errorf("the embed's chart marks %q, want the lab's fault", got)
	}
}

// TestEmbedSignInFailureRejects: a sign-in the server refuses rejects the
// promise and fires tokenlab:error with code "signin" and the same
// message, naming the field.
func TestEmbedSignInFailureRejects(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	openEmbedHost(t, ctx, "")
	got := awaited(t, ctx, embedJS(`{username: "bad", password: "pw", grants: {chat: {service_sid: "nope"}}}`))
	if !strings.HasPrefix(got, "rejected: ") || !strings.Contains(got, "grants.chat.service_sid") {
		t.Fatalf("tokenlab.embed = %q, want a rejection naming grants.chat.service_sid", got)
	}
	msg := strings.TrimPrefix(got, "rejected: ")
	ev := awaited(t, ctx, `(async () => JSON.stringify(window.__got.events.filter((e) => e.name === "tokenlab:error").map((e) => e.detail)))()`)
	if !strings.Contains(ev, `"code":"signin"`) || !strings.Contains(ev, strconv.Quote(msg)[1:len(strconv.Quote(msg))-1]) {
		t.Errorf("tokenlab:error events %s, want code signin with %q", ev, msg)
	}
	// Refused, the app may correct its options and call again.
	if got := awaited(t, ctx, embedJS(`{username: "bad", password: "pw"}`)); strings.HasPrefix(got, "rejected") || strings.Count(got, ".") != 2 {
		t.Errorf("tokenlab.embed after a refused sign-in = %q, want a token", got)
	}
	// Options the embed cannot send are refused before any request,
	// naming the option; corrected, they sign in.
	other := newTab(t, 20*time.Second)
	openEmbedHost(t, other, "")
	got = awaited(t, other, `(async () => { try { await tokenlab.embed({password: "x"}); return "resolved"; } catch (e) { return e.message; } })()`)
	if !strings.Contains(got, "username") {
		t.Errorf("tokenlab.embed without a username: %q, want a refusal naming username", got)
	}
	if got := awaited(t, other, embedJS(`{username: "fixed", password: "x"}`)); strings.HasPrefix(got, "rejected") || strings.Count(got, ".") != 2 {
		t.Errorf("tokenlab.embed with the username added = %q, want a token", got)
	}
}

// TestEmbedCSPWithoutWasmEvalIsABootError: a host page whose CSP forbids
// compiling WebAssembly, or fetching from tokenlab, gets tokenlab:error
// with code "boot", saying what to allow, and the promise rejects with the
// same message; the same page allowing both gets its token.
func TestEmbedCSPWithoutWasmEvalIsABootError(t *testing.T) {
	origin := tokenlabOrigin()
	ws := "ws://" + strings.TrimPrefix(origin, "http://")
	for _, tt := range []struct {
		name, csp string
		boot      bool
	}{
		{"without 'wasm-unsafe-eval'", "default-src 'self'; script-src 'self' " + origin + "; connect-src " + origin + " " + ws, true},
		{"without tokenlab in connect-src", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " + origin + "; connect-src 'self'", true},
		{"allowing both", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " + origin + "; connect-src " + origin + " " + ws, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newTab(t, 30*time.Second)
			openEmbedHost(t, ctx, "&csp="+url.QueryEscape(tt.csp))
			got := awaited(t, ctx, embedJS(`{username: "csp", password: "pw"}`))
			ev := awaited(t, ctx, `(async () => JSON.stringify(window.__got.events.filter((e) => e.name === "tokenlab:error").map((e) => e.detail)))()`)
			if !tt.boot {
				if strings.HasPrefix(got, "rejected") || ev != "[]" {
					t.Fatalf("tokenlab.embed = %q, errors %s, want a token", got, ev)
				}
				waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
				return
			}
			if !strings.HasPrefix(got, "rejected: ") || !strings.Contains(got, "wasm-unsafe-eval") || !strings.Contains(got, "connect-src") {
				t.Fatalf("tokenlab.embed = %q, want a rejection saying what the CSP must allow", got)
			}
			msg := strings.TrimPrefix(got, "rejected: ")
			quoted := strconv.Quote(msg)
			if !strings.Contains(ev, `"code":"boot"`) || !strings.Contains(ev, quoted[1:len(quoted)-1]) {
				t.Errorf("tokenlab:error events %s, want code boot with %q", ev, msg)
			}
		})
	}
}

// The cross-site embed test's names: tokenlab's TLS server as
// tokenlab.test, and an app on app.test, another site. The browser
// resolves both to loopback (host-resolver-rules).
const (
	crossSiteName = "tokenlab.test"
	appSiteName   = "app.test"
)

var (
	// crossSiteAppURL is the app on another site, over HTTPS with the TLS
	// server's certificate; crossSiteURL is the TLS server by its name.
	crossSiteAppURL, crossSiteURL string
)

// startCrossSiteApp serves the embed's host page at https://app.test:PORT.
func startCrossSiteApp(cert tls.Certificate) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/embed", embedHost())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	crossSiteAppURL = "https://" + appSiteName + ":" + port
	return func() { srv.Close() }, nil
}

// TestEmbedCrossSiteOverTLS puts the embed into a page on another site
// (https://app.test embedding https://tokenlab.test): the session cookie,
// set SameSite=None; Secure; Partitioned for that site, comes back on the
// renewals, the socket and the lab's orders.
func TestEmbedCrossSiteOverTLS(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	navigate(t, ctx, crossSiteAppURL+"/embed?tokenlab="+crossSiteURL)
	eval(t, ctx, `window.__got = {tokens: [], details: [], events: []};
		for (const name of ["tokenlab:token", "tokenlab:notice", "tokenlab:error"])
			window.addEventListener(name, (e) => window.__got.events.push({name, detail: e.detail}));`)
	if first := awaited(t, ctx, embedJS(`{username: "crosssite", password: "pw", ttl: 600}`)); strings.HasPrefix(first, "rejected") || strings.Count(first, ".") != 2 {
		t.Fatalf("tokenlab.embed across sites = %q", first)
	}
	// The socket opens with the cookie (a Strict cookie would not come).
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 10*time.Second)
	waitFor(t, ctx, `Math.floor(Date.now()/1000) > window.tokenlab.snapshot().expiresAt - 600`, 3*time.Second)
	if got := awaited(t, ctx, `(async () => { try { await tokenlab.test.expireNow(); return "ok"; } catch (e) { return e.message; } })()`); got != "ok" {
		t.Fatalf("expireNow across sites: %q", got)
	}
	waitFor(t, ctx, `window.__got.tokens.length >= 1`, 10*time.Second)
	if got := recordedEventTypes(t, ctx); strings.Contains(got, "tokenlab:error") {
		t.Errorf("events across sites hold an error: %s", got)
	}
}

// TestEmbedRefusesHostileOptions calls tokenlab.embed as a careless or
// hostile app might: a misspelt option, a panel that is not a boolean,
// options whose getters throw. Each gets a rejected Promise (never a
// throw) naming what is wrong and a tokenlab:error, and corrected options
// then sign in.
func TestEmbedRefusesHostileOptions(t *testing.T) {
	for _, tt := range []struct{ name, options, want string }{
		{"a misspelt ttl", `{username: "a", password: "x", tll: 60}`, `"tll"`},
		{"an option it does not have", `{username: "a", password: "x", server: "http://evil.test"}`, `"server"`},
		{"panel a string", `{username: "a", password: "x", panel: "no"}`, "panel"},
		{"a getter that throws", `{get username() { throw new Error("boom") }, password: "x"}`, "boom"},
		{"a proxy that throws", `new Proxy({}, {ownKeys() { throw new Error("trap") }, get() { throw new Error("trap") }})`, "trap"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A tab each: a call while a session lives returns its promise.
			ctx := newTab(t, 20*time.Second)
			openEmbedHost(t, ctx, "")
			got := awaited(t, ctx, `(async () => {
				let p;
				try { p = tokenlab.embed(`+tt.options+`); } catch (e) { return "threw: " + e.message; }
				if (!(p instanceof Promise)) return "not a promise";
				try { await p; return "resolved"; } catch (e) { return "rejected: " + e.message; }
			})()`)
			if !strings.HasPrefix(got, "rejected: ") || !strings.Contains(got, tt.want) {
				t.Fatalf("tokenlab.embed(%s) = %q, want a rejection saying %s", tt.options, got, tt.want)
			}
			ev := awaited(t, ctx, `(async () => JSON.stringify(window.__got.events.filter((e) => e.name === "tokenlab:error").map((e) => e.detail)))()`)
			if !strings.Contains(ev, `"code":"signin"`) {
				t.Errorf("tokenlab:error events %s, want one with code signin", ev)
			}
			// Refused, the app corrects its options and signs in.
			if got := awaited(t, ctx, embedJS(`{username: "fixed", password: "x", ttl: 60, panel: false}`)); strings.HasPrefix(got, "rejected") || strings.Count(got, ".") != 2 {
				t.Errorf("tokenlab.embed with corrected options = %q, want a token", got)
			}
		})
	}
}
