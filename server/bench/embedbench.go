package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// embedLoads is how many cold loads of each page figure 10 times: two more
// than figure 6, as the two pages alternate on a machine that may be busy.
const embedLoads = 7

// fig10 is the embed in a host page on another origin beside tokenlab's own
// page, each load in a fresh Chromium, alternating.
type fig10 struct {
	// Milliseconds after navigation start, as time.Duration.
	embedScriptAt, embedWasmAt, embedTokenAt []float64 // embed.js arrived, the wasm arrived, the promise resolved
	embedSignInAt                            []float64 // the sign-in's answer arrived
	ownTokenAt                               []float64 // the own page's first tokenlab:token
}

// embedHostPage is "your app": it loads the embed from tokenlab (%[1]s)
// and keeps when the first token reached it, relative to navigation start,
// with the arrival of embed.js and of the program.
const embedHostPage = `<!doctype html><html><head><meta charset="utf-8"><title>your app</title>
<script src="%[1]s/embed.js"></script>
<script>
window.__bench = {};
tokenlab.embed({username: "%[2]s", password: "pw", ttl: 3600}).then(() => {
  window.__bench.token = performance.now();
  const entries = performance.getEntriesByType("resource");
  const script = entries.find((r) => r.name.includes("/embed.js"));
  const wasm = entries.find((r) => r.name.includes(".wasm"));
  const signIn = entries.find((r) => r.name.endsWith("/token"));
  window.__bench.signIn = signIn ? signIn.responseEnd : 0;
  window.__bench.script = script ? script.responseEnd : 0;
  window.__bench.wasm = wasm ? wasm.responseEnd : 0;
}, (e) => { window.__bench.error = String(e); });
</script></head><body><p>your app</p></body></html>`

// benchEmbed measures figure 10: navigation start to the first token in a
// page on another origin (another port of localhost) that loads the
// embed, beside tokenlab's own page loaded the same way (figure 6's cold
// load, the session cookie already set), in the same run.
func (b *bench) benchEmbed(ctx context.Context) error {
	f := &b.fig10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	_, hostPort, _ := net.SplitHostPort(ln.Addr().String())
	appOrigin := "http://localhost:" + hostPort
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_ALLOWED_ORIGINS=" + appOrigin}, b.path("server-embed.log"))
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.stop()
	_, tlPort, _ := net.SplitHostPort(srv.addr)
	tokenlab := "http://localhost:" + tlPort
	app := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, embedHostPage, tokenlab, "embed-"+r.URL.Query().Get("n"))
	})}
	go app.Serve(ln)
	defer app.Close()

	b.logf("figure 10: the embed in a page at %s, beside tokenlab's own page at %s", appOrigin, tokenlab)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range embedLoads {
		s, err := signIn(client, srv.addr, fmt.Sprintf("own%d", i), "pw", 3600)
		if err != nil {
			return err
		}
		own, err := coldLoad(ctx, tokenlab+"/", s.cookie)
		if err != nil {
			return fmt.Errorf("own page, cold load %d: %w", i+1, err)
		}
		e, err := coldEmbedLoad(ctx, fmt.Sprintf("%s/?n=%d", appOrigin, i))
		if err != nil {
			return fmt.Errorf("embed, cold load %d: %w", i+1, err)
		}
		b.logf("  load %d: own page's token at %v; embed: script at %v, wasm at %v, sign-in answered at %v, token at %v",
			i+1, own.token.Round(time.Millisecond), e.Script.Round(time.Millisecond), e.Wasm.Round(time.Millisecond), e.SignIn.Round(time.Millisecond), e.Token.Round(time.Millisecond))
		f.ownTokenAt = append(f.ownTokenAt, float64(own.token))
		f.embedScriptAt = append(f.embedScriptAt, float64(e.Script))
		f.embedWasmAt = append(f.embedWasmAt, float64(e.Wasm))
		f.embedTokenAt = append(f.embedTokenAt, float64(e.Token))
		f.embedSignInAt = append(f.embedSignInAt, float64(e.SignIn))
	}
	return nil
}

// embedTimes is the host page's window.__bench, converted to durations
// after navigation start.
type embedTimes struct {
	Script, Wasm, SignIn, Token time.Duration
}

// coldEmbedLoad opens url, a host page using the embed, in a fresh
// Chromium and waits for the embed's first token.
func coldEmbedLoad(ctx context.Context, url string) (embedTimes, error) {
	var t embedTimes
	bctx, cancel := coldBrowser(ctx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil { // starts the browser: no timeout on this first run
		return t, err
	}
	tctx, tcancel := context.WithTimeout(bctx, 20*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		return t, err
	}
	raw, err := chromedp.Run(tctx, chromedp.Poll[struct {
		Script, Wasm, SignIn, Token float64
		Error                       string
	}](`window.__bench && (window.__bench.token || window.__bench.error) ? window.__bench : null`, chromedp.WithPollingInterval(10*time.Millisecond)))
	if errors.Is(err, context.DeadlineExceeded) {
		return t, errors.New("no token within 20 s (tokenlab.embed did not resolve)")
	}
	if err != nil {
		return t, err
	}
	if raw.Error != "" {
		return t, errors.New("tokenlab.embed rejected: " + strings.TrimSpace(raw.Error))
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return embedTimes{Script: ms(raw.Script), Wasm: ms(raw.Wasm), SignIn: ms(raw.SignIn), Token: ms(raw.Token)}, nil
}
