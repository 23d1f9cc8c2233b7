package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/web"
)

// staticFiles is the page's real static tree (as make web-assets built it),
// in memory, for tests that serve it altered.
func staticFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	static := os.DirFS("../static")
	files := fstest.MapFS{}
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		files[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["gen/tokenlab.wasm.gz"]; !ok {
		t.Fatal("the page is not built: run make web-assets (make test does)")
	}
	return files
}

// servePage serves files on loopback, each request going through wrap.
func servePage(t *testing.T, files fstest.MapFS, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h, err := web.NewHandler(files)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wrap(h))
	t.Cleanup(srv.Close)
	return srv.URL
}

// When the page's program cannot start, the page says why where the
// program would have been, and fires tokenlab:error with code "boot": a
// broken build is told apart from a slow one.
func TestBootFailureIsShown(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(files fstest.MapFS)
		want  string
	}{
		{"the wasm is not a program", func(files fstest.MapFS) {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte("not a wasm program"))
			zw.Close()
			files["gen/tokenlab.wasm.gz"] = &fstest.MapFile{Data: b.Bytes()}
			delete(files, "gen/tokenlab.wasm.zst")
		}, "did not start"},
		{"wasm_exec.js is missing", func(files fstest.MapFS) {
			delete(files, "gen/wasm_exec.js")
		}, "wasm_exec.js is not built: run make build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newTab(t, 20*time.Second)
			files := staticFiles(t)
			tt.spoil(files)
			url := servePage(t, files, func(h http.Handler) http.Handler { return h })

			err := chromedp.Do(ctx,
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
						Source: `window.__boot = []; addEventListener("tokenlab:error", (e) => window.__boot.push(e.detail.code + ": " + e.detail.message));`,
					})
					return err
				}),
				chromedp.Navigate(url+"/"),
				chromedp.Poll[chromedp.Void](`document.getElementById("boot").className === "field-error"`,
					chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)),
				// Shown, not only written: the page is hidden while its
				// program starts.
				chromedp.WaitVisible(chromedp.CSS(`#boot`)),
			)
			if err != nil {
				t.Fatalf("waiting for the boot error: %v", err)
			}
			if got := text(t, ctx, `document.getElementById("boot").textContent`); !strings.Contains(got, tt.want) {
				t.Errorf("boot message %q, want it to say %q", got, tt.want)
			}
			events, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__boot`))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || !strings.HasPrefix(events[0], "boot: ") || !strings.Contains(events[0], tt.want) {
				t.Errorf("tokenlab:error events %q, want one with code boot saying %q", events, tt.want)
			}
		})
	}
}

// The page stays blank only briefly while its program starts: when the
// program is slow to come, the page and its loading line appear before it,
// and the program takes over when it runs.
func TestSlowStartShowsLoading(t *testing.T) {
	ctx := newTab(t, 20*time.Second)
	const delay = 2 * time.Second
	url := servePage(t, staticFiles(t), func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == web.WasmPath {
				select {
				case <-time.After(delay):
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	start := time.Now()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#boot`)),
	)
	if err != nil {
		t.Fatalf("waiting for the loading line: %v", err)
	}
	if waited := time.Since(start); waited >= delay {
		t.Fatalf("the loading line appeared after %v, not before the program (held back %v)", waited, delay)
	}
	if got := text(t, ctx, `document.getElementById("boot").textContent`); !strings.HasPrefix(got, "Loading") {
		t.Errorf("while the program loads, #boot says %q", got)
	}
	if running, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.tokenlab !== undefined`)); running {
		t.Fatal("the program was already running: the test did not hold it back")
	}
	// This page has no server behind it: the program shows the sign-in
	// form once its token request is refused.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#login`))); err != nil {
		t.Fatalf("the program did not take over: %v", err)
	}
}
