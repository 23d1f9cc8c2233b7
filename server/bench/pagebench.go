package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/web"
)

// pageLoads is how many cold loads figure 6 times.
const pageLoads = 5

// firstTokenScript runs before the page's own scripts on every load. The
// page fires "tokenlab:token" once it has rendered a token; the time of
// that event and of the next animation frame (when the browser paints it)
// are kept, both relative to navigation start (performance.now()), with
// two milestones on the way: the wasm downloaded, the program ready.
const firstTokenScript = `
window.__bench = {};
addEventListener('tokenlab:notice', (e) => {
  if (e.detail && e.detail.type === 'ready' && !window.__bench.ready) window.__bench.ready = performance.now();
});
addEventListener('tokenlab:token', () => {
  if (window.__bench.token) return;
  window.__bench.token = performance.now();
  const entries = performance.getEntriesByType('resource');
  const wasm = entries.find((r) => r.name.includes('.wasm'));
  const refresh = entries.find((r) => r.name.includes('/token/refresh'));
  window.__bench.wasmStart = wasm ? wasm.startTime : 0;
  window.__bench.wasm = wasm ? wasm.responseEnd : 0;
  window.__bench.refreshStart = refresh ? refresh.startTime : 0;
  window.__bench.refreshEnd = refresh ? refresh.responseEnd : 0;
  requestAnimationFrame(() => { window.__bench.frame = performance.now(); });
});`

// benchPage measures figure 6: the wasm's size raw, as served and
// compressed, and the time to the first rendered token in headless
// Chromium.
func (b *bench) benchPage(ctx context.Context) error {
	f := &b.fig6
	info, err := os.Stat(b.wasmPath)
	if err != nil {
		return fmt.Errorf("the page is not built (make build): %w", err)
	}
	f.wasmFile, f.raw = b.wasmPath, info.Size()
	if f.gzip9, err = compressedSize(ctx, b.wasmPath, "gzip", "-9", "-n", "-c"); err != nil {
		return err
	}
	if _, err := exec.LookPath("brotli"); err == nil {
		if f.brotli, err = compressedSize(ctx, b.wasmPath, "brotli", "-q", "11", "-c"); err != nil {
			return err
		}
	}

	b.logf("figure 6: the page (%s, %d bytes)", b.wasmPath, f.raw)
	srv, err := startChild(ctx, "server", nil, b.path("server-page.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	url := "http://" + srv.addr + web.WasmPath
	if f.servedGzip, _, err = servedSize(url, "gzip"); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range pageLoads {
		s, err := signIn(client, srv.addr, fmt.Sprintf("page%d", i), "pw", 3600)
		if err != nil {
			return err
		}
		l, err := coldLoad(ctx, "http://"+srv.addr+"/", s.cookie)
		if err != nil {
			return fmt.Errorf("cold load %d: %w", i+1, err)
		}
		b.logf("  load %d: wasm downloaded at %v, program ready at %v, token rendered at %v, painted by %v; wasm %d bytes on the wire (%s)",
			i+1, l.wasmLoaded.Round(time.Millisecond), l.ready.Round(time.Millisecond), l.token.Round(time.Millisecond), l.frame.Round(time.Millisecond), l.wasmBytes, l.wasmEncoding)
		f.wasmStartAt = append(f.wasmStartAt, float64(l.wasmStart))
		f.refreshStartAt = append(f.refreshStartAt, float64(l.refreshStart))
		f.refreshEndAt = append(f.refreshEndAt, float64(l.refreshEnd))
		f.wasmAt = append(f.wasmAt, float64(l.wasmLoaded))
		f.readyAt = append(f.readyAt, float64(l.ready))
		f.tokenAt = append(f.tokenAt, float64(l.token))
		f.frameAt = append(f.frameAt, float64(l.frame))
		f.served, f.encoding = l.wasmBytes, l.wasmEncoding
	}
	return nil
}

func compressedSize(ctx context.Context, path, tool string, args ...string) (int64, error) {
	cmd := exec.CommandContext(ctx, tool, append(args, path)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	return n, err
}

// servedSize fetches url accepting the encodings given and counts the
// bytes on the wire.
func servedSize(url, acceptEncoding string) (int64, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept-Encoding", acceptEncoding)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	enc := resp.Header.Get("Content-Encoding")
	if enc == "" {
		enc = "identity"
	}
	return n, enc, err
}

// benchTimes is window.__bench: milliseconds after navigation start.
type benchTimes struct {
	WasmStart    float64 `json:"wasmStart"`    // the wasm's request started
	Wasm         float64 `json:"wasm"`         // the wasm's last byte arrived
	RefreshStart float64 `json:"refreshStart"` // the program asked for its token
	RefreshEnd   float64 `json:"refreshEnd"`   // the token's last byte arrived
	Ready        float64 `json:"ready"`        // the program ran and built the page
	Token        float64 `json:"token"`        // the first token rendered
	Frame        float64 `json:"frame"`        // the next animation frame
}

// pageLoad is what one cold load saw.
type pageLoad struct {
	wasmStart, wasmLoaded, ready, refreshStart, refreshEnd, token, frame time.Duration // after navigation start
	wasmBytes                                                            int64         // the wasm response's body bytes on the wire
	wasmEncoding                                                         string
}

// coldBrowser returns the tab of a fresh headless Chromium (new profile:
// empty HTTP and code caches) and the function that ends it.
func coldBrowser(ctx context.Context) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(actx)
	return bctx, func() { cancel(); cancelAlloc() }
}

// coldLoad starts a fresh headless Chromium (new profile: empty HTTP and
// code caches), gives it the session cookie, opens url and waits for the
// first rendered token.
func coldLoad(ctx context.Context, url, cookie string) (pageLoad, error) {
	var l pageLoad
	bctx, cancel := coldBrowser(ctx)
	defer cancel()
	name, value, _ := strings.Cut(cookie, "=")
	httpOnly := true
	setup := chromedp.Action[chromedp.Void](func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstTokenScript}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: url, Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteStrict})
		return chromedp.Void{}, err
	})
	if name != session.CookieName {
		return l, fmt.Errorf("unexpected cookie %q", name)
	}
	if err := chromedp.Do(bctx, setup); err != nil { // starts the browser: no timeout on this first run
		return l, err
	}
	// The wasm's size on the wire, as Chromium fetched it.
	var mu sync.Mutex
	var wasmID network.RequestID
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if strings.Contains(ev.Response.URL, ".wasm") {
				wasmID = ev.RequestID
				l.wasmEncoding = "identity"
				for k, v := range ev.Response.Headers {
					if strings.EqualFold(k, "Content-Encoding") {
						l.wasmEncoding = fmt.Sprint(v)
					}
				}
			}
		case *network.EventLoadingFinished:
			if ev.RequestID == wasmID {
				l.wasmBytes = int64(ev.EncodedBodyLength)
				if l.wasmBytes == 0 {
					l.wasmBytes = int64(ev.EncodedDataLength)
				}
			}
		}
	}); err != nil {
		return l, err
	}
	tctx, tcancel := context.WithTimeout(bctx, 20*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		return l, err
	}
	times, err := chromedp.Run(tctx, chromedp.Poll[benchTimes](`window.__bench && window.__bench.frame ? window.__bench : null`, chromedp.WithPollingInterval(10*time.Millisecond)))
	if errors.Is(err, context.DeadlineExceeded) {
		return l, errors.New("no token rendered within 20 s (no tokenlab:token event)")
	}
	if err != nil {
		return l, err
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	l.token, l.frame, l.wasmLoaded, l.ready = ms(times.Token), ms(times.Frame), ms(times.Wasm), ms(times.Ready)
	l.wasmStart, l.refreshStart, l.refreshEnd = ms(times.WasmStart), ms(times.RefreshStart), ms(times.RefreshEnd)
	mu.Lock()
	defer mu.Unlock()
	return l, nil
}
