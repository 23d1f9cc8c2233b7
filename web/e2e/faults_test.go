package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// deadTokenWatch samples snapshot() every 20 ms inside the page and keeps
// every sample where the token's time is up but the page does not say
// "expired": a page must never present a dead token as usable.
const deadTokenWatch = `(() => {
  window.__dead = {lies: [], samples: 0, statuses: {}};
  setInterval(() => {
    if (!window.tokenlab) return;
    const s = window.tokenlab.snapshot();
    window.__dead.samples++;
    window.__dead.statuses[s.status] = (window.__dead.statuses[s.status] || 0) + 1;
    if (s.jti !== "" && s.secondsLeft <= 0 && s.status !== "expired" && s.status !== "signed out") {
      if (window.__dead.lies.length < 20) window.__dead.lies.push({status: s.status, secondsLeft: s.secondsLeft, jti: s.jti});
    }
  }, 20);
})()`

type deadWatch struct {
	Lies     []map[string]any `json:"lies"`
	Samples  int              `json:"samples"`
	Statuses map[string]int   `json:"statuses"`
}

func watchForDeadTokens(t *testing.T, ctx context.Context) {
	t.Helper()
	eval(t, ctx, deadTokenWatch)
}

func deadTokens(t *testing.T, ctx context.Context) deadWatch {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[deadWatch](`window.__dead`))
	if err != nil {
		t.Fatalf("reading the dead-token watch: %v", err)
	}
	return w
}

// setOffline cuts the tab off the network (every request and socket, and
// navigator.onLine) or brings it back, through DevTools network emulation.
func setOffline(t *testing.T, ctx context.Context, offline bool) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		rule := &network.Conditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule,
			network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{rule}}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState,
			network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	if err != nil {
		t.Fatalf("network emulation (offline=%v): %v", offline, err)
	}
}

// verifyOnServer asks the server whether the page's current token is
// genuine and unexpired.
func verifyOnServer(t *testing.T, ctx context.Context) {
	t.Helper()
	raw := strings.TrimSpace(text(t, ctx, `document.querySelector("#live-view [data-part=raw]").textContent`))
	if strings.Count(raw, ".") != 2 {
		t.Fatalf("the page shows no token: %q", raw)
	}
	body, _ := json.Marshal(map[string]string{"token": raw})
	resp, err := http.Post(baseURL+"/token/verify", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Valid, Expired bool
		Reason         string
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || !v.Valid || v.Expired {
		t.Errorf("the page's token: valid %v, expired %v (%s, %v)", v.Valid, v.Expired, v.Reason, err)
	}
}

// The server crashes (killed, no close frame: the page sees 1006) and comes
// back on the same port with the same configuration in the middle of a
// token's life. The page reconnects by itself, keeps its token (still
// genuine for the new process, which signs with the same key), and renews
// it on its own schedule although the new process does not know the token
// and so sends no warning for it.
func TestServerCrashMidToken(t *testing.T) {
	ctx := newTab(t, 45*time.Second)
	open(t, ctx)
	watchForDeadTokens(t, ctx)
	signIn(t, ctx, "ivan", 8)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)
	before := snap(t, ctx)

	srv.stop(false)
	waitFor(t, ctx, `!window.tokenlab.snapshot().connected`, 5*time.Second)
	if err := srv.start(); err != nil {
		t.Fatalf("restarting the server: %v", err)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 15*time.Second)
	if s := snap(t, ctx); s.JTI == before.JTI && s.SecondsLeft > 0 {
		verifyOnServer(t, ctx)
	}
	// Renewed before expiry by the page's own timer, and connected.
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 1 && window.tokenlab.snapshot().connected`, 15*time.Second)
	after := snap(t, ctx)
	if after.Identity != "ivan" || after.JTI == before.JTI || after.SecondsLeft <= 0 {
		t.Errorf("after the crash: %+v (before %+v)", after, before)
	}
	verifyOnServer(t, ctx)
	w := deadTokens(t, ctx)
	if len(w.Lies) > 0 || w.Samples < 100 {
		t.Errorf("the page showed a dead token as usable: %v (%d samples, statuses %v)", w.Lies, w.Samples, w.Statuses)
	}
	if w.Statuses["expired"] > 0 {
		t.Errorf("the token expired across the crash (statuses %v): the page should renew on its own in time", w.Statuses)
	}
}

// cutter is a TCP proxy in front of the server whose link can be cut: every
// connection through it is reset and new ones are refused, as when a
// laptop leaves the network (DevTools' offline emulation fails new
// requests but leaves an open WebSocket alone).
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); c.setCut(true) })
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			if c.cut {
				c.mu.Unlock()
				down.(*net.TCPConn).SetLinger(0)
				down.Close()
				continue
			}
			c.mu.Unlock()
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			c.mu.Lock()
			c.conns[down], c.conns[up] = true, true
			c.mu.Unlock()
			go func() { io.Copy(up, down); up.Close(); down.Close() }()
			go func() { io.Copy(down, up); up.Close(); down.Close() }()
		}
	}()
	return c
}

func (c *cutter) url() string { return "http://" + c.ln.Addr().String() }

func (c *cutter) setCut(cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = cut
	if cut {
		for conn := range c.conns {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
		clear(c.conns)
	}
}

// The network goes away for longer than the token's lifetime, then comes
// back. While offline the token dies and the page must say so, never
// showing it as valid; once online the page renews with its session and
// shows a live token again. The tab reaches the server through a proxy
// that cuts the link, and DevTools emulates the offline browser
// (navigator.onLine, failing requests).
func TestOfflineLongerThanTTL(t *testing.T) {
	const ttl = 4
	link := newCutter(t, strings.TrimPrefix(baseURL, "http://"))
	ctx := newTab(t, 45*time.Second)
	openAt(t, ctx, link.url())
	watchForDeadTokens(t, ctx)
	signIn(t, ctx, "judith", ttl)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)
	first := snap(t, ctx)

	setOffline(t, ctx, true)
	link.setCut(true)
	waitFor(t, ctx, `!window.tokenlab.snapshot().connected`, 10*time.Second)
	// Well past expiry, with every renewal attempt failing meanwhile.
	waitFor(t, ctx, `window.tokenlab.snapshot().status === "expired"`, (ttl+5)*time.Second)
	time.Sleep(2 * time.Second)
	if s := snap(t, ctx); s.Status != "expired" || s.SecondsLeft > 0 {
		t.Errorf("offline past expiry: %+v, want expired", s)
	}

	link.setCut(false)
	setOffline(t, ctx, false)
	waitFor(t, ctx, `(() => { const s = window.tokenlab.snapshot(); return s.secondsLeft > 0 && s.status !== "expired" && s.connected })()`, 25*time.Second)
	back := snap(t, ctx)
	if back.JTI == first.JTI || back.Identity != "judith" || back.Renewals < 1 {
		t.Errorf("back online: %+v (first token %s)", back, first.JTI)
	}
	verifyOnServer(t, ctx)
	w := deadTokens(t, ctx)
	if len(w.Lies) > 0 {
		t.Errorf("the page showed a dead token as usable: %v (statuses %v)", w.Lies, w.Statuses)
	}
	if w.Samples < 100 || w.Statuses["expired"] == 0 {
		t.Errorf("the watch saw %d samples, statuses %v: it cannot vouch for the page", w.Samples, w.Statuses)
	}
}

// openAt loads the page from base (the server, or a proxy in front of it)
// and waits until its program runs.
func openAt(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Evaluate[chromedp.Void](recorder),
		chromedp.Poll[chromedp.Void](`window.tokenlab !== undefined && (!document.getElementById("signin").hidden || !document.getElementById("live").hidden)`,
			chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)),
	)
	if err != nil {
		t.Fatalf("loading the page from %s: %v", base, err)
	}
}

// The page runs under its Content-Security-Policy without a single
// violation: the wasm compiles ('wasm-unsafe-eval'), the socket and every
// fetch stay on the page's origin. A fetch to another origin, made on
// purpose at the end, is the control: it must be blocked and reported, so
// the listener and the policy are known to work.
func TestNoPolicyViolations(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.effectiveDirective + " " + e.blockedURI));`,
		})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	open(t, ctx)
	signIn(t, ctx, "kim", 600)
	waitFor(t, ctx, `window.tokenlab.snapshot().connected`, 5*time.Second)
	// Past the server's one-second coalescing window, so that the click
	// mints a new token.
	time.Sleep(1100 * time.Millisecond)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#renew-now`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `window.tokenlab.snapshot().renewals >= 1`, 5*time.Second)
	violations := func() []string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := violations(); len(v) > 0 {
		t.Errorf("policy violations while the page ran: %v", v)
	}
	eval(t, ctx, `fetch("http://127.0.0.2:9/elsewhere").catch(() => {})`)
	waitFor(t, ctx, `window.__csp.length > 0`, 5*time.Second)
	if v := violations(); len(v) != 1 || !strings.HasPrefix(v[0], "connect-src http://127.0.0.2:9/") {
		t.Errorf("the control fetch to another origin: violations %v, want one connect-src", v)
	}
}
