package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
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

// When the page's program cannot start, the page says why where the
// program would have been, and fires tokenlab:error with code "boot": a
// broken build is told apart from a slow one. The page is served from the
// real static files with the generated assets broken, on loopback.
func TestBootFailureIsShown(t *testing.T) {
	static, err := fs.Sub(os.DirFS("../static"), ".")
	if err != nil {
		t.Fatal(err)
	}
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
		}, "wasm_exec.js is not built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newTab(t, 20*time.Second)
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
				t.Skip("the page is not built: run make web-assets (make test does)")
			}
			tt.spoil(files)
			h, err := web.NewHandler(files)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)

			err = chromedp.Do(ctx,
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
						Source: `window.__boot = []; addEventListener("tokenlab:error", (e) => window.__boot.push(e.detail.code + ": " + e.detail.message));`,
					})
					return err
				}),
				chromedp.Navigate(srv.URL+"/"),
				chromedp.Poll[chromedp.Void](`document.getElementById("boot").className === "field-error"`,
					chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)),
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
