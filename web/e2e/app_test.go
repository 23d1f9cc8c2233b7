package e2e_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// appPage is the whole of the app on the other origin: tokenlab's address
// comes from the query string.
const appPage = `<!doctype html><html><head><meta charset="utf-8"><title>your app</title></head>
<body><p id="app">your app</p></body></html>`

// startApp serves appPage on a free loopback port, named localhost so that
// it is another origin of the same site as tokenlab's own page.
func startApp() (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(appPage))
	})
	mux.Handle("/embed", embedHost())      // embed_test.go
	mux.Handle("/example/", exampleHost()) // example_test.go
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	appURL = "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	return func() { srv.Close() }, nil
}

// TestAppOnAnotherOriginGetsAndRenewsTokens opens a page at an origin in
// TOKENLAB_ALLOWED_ORIGINS and calls tokenlab from it, as a user's app
// does: sign-in and renewal work with the session cookie, across origins;
// the same calls from an origin not in the list are refused.
func TestAppOnAnotherOriginGetsAndRenewsTokens(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	tokenlab := tokenlabOrigin()
	navigate(t, ctx, appURL+"/")
	got := awaited(t, ctx, `(async () => {
		const api = `+strconv.Quote(tokenlab)+`;
		const post = (path, body) => fetch(api + path, {method: "POST", credentials: "include",
			headers: {"Content-Type": "application/json"}, body: body && JSON.stringify(body)});
		const signIn = await post("/token", {username: "appuser", password: "pw", ttl: 60});
		const first = await signIn.json();
		const renewed = await post("/token/refresh");
		const second = await renewed.json();
		const health = await fetch(api + "/healthz", {credentials: "include"});
		return [signIn.status, first.identity, renewed.status, second.identity, second.token !== first.token || second.jti === first.jti, health.status].join(" ");
	})()`)
	if got != "200 appuser 200 appuser true 200" {
		t.Errorf("from the allowed origin: %q, want sign-in, renewal and health answered", got)
	}

	// The same page at an origin not in the list: the browser gets no
	// answer it may read, and the server refuses the state change itself.
	other := newTab(t, 20*time.Second)
	navigate(t, other, strings.Replace(appURL, "localhost", "127.0.0.1", 1)+"/")
	got = awaited(t, other, `(async () => {
		try {
			await fetch(`+strconv.Quote(tokenlab)+` + "/token", {method: "POST", credentials: "include",
				headers: {"Content-Type": "application/json"}, body: JSON.stringify({username: "x", password: "y"})});
			return "read an answer";
		} catch (e) { return "refused: " + e.name; }
	})()`)
	if got != "refused: TypeError" {
		t.Errorf("from an origin not in the list: %q, want the browser to refuse", got)
	}
}

// tokenlabOrigin is the server under test as the app reaches it: by the
// name localhost, so that it is the same site as the app.
func tokenlabOrigin() string {
	return "http://localhost:" + strings.TrimPrefix(baseURL, "http://127.0.0.1:")
}

// navigate opens url in the tab and waits for it to load.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
}

// awaited evaluates an async function's call in the page and returns the
// string it resolves to.
func awaited(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return s
}
