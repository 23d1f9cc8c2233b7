package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// wasmBudget is the most the page's program may cost to download.
const wasmBudget = 1_000_000

type resourceTiming struct {
	Name            string  `json:"name"`
	TransferSize    float64 `json:"transferSize"`
	EncodedBodySize float64 `json:"encodedBodySize"`
	DecodedBodySize float64 `json:"decodedBodySize"`
}

func wasmTiming(t *testing.T, ctx context.Context) resourceTiming {
	t.Helper()
	raw := text(t, ctx, `JSON.stringify(performance.getEntriesByType("resource").find(e => e.name.includes("/gen/tokenlab.wasm")) || null)`)
	var rt resourceTiming
	if err := json.Unmarshal([]byte(raw), &rt); err != nil || rt.Name == "" {
		t.Fatalf("no resource timing for the wasm: %s", raw)
	}
	return rt
}

// The program reaches the browser compressed and under budget, is
// instantiated by streaming (which needs application/wasm: the page would
// not have started otherwise), and comes from the cache on the next visit.
func TestWasmDelivery(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	first := wasmTiming(t, ctx)
	t.Logf("wasm: %.0f bytes transferred, %.0f encoded, %.0f decoded", first.TransferSize, first.EncodedBodySize, first.DecodedBodySize)
	if first.TransferSize <= 0 || first.TransferSize >= wasmBudget {
		t.Errorf("wasm transferred %.0f bytes, budget %d: gzip alone does not fit; install zstd (apt-get install zstd) and rerun make web-assets", first.TransferSize, wasmBudget)
	}
	if first.EncodedBodySize*2 > first.DecodedBodySize {
		t.Errorf("wasm not compressed: %.0f encoded, %.0f decoded", first.EncodedBodySize, first.DecodedBodySize)
	}

	// The versioned URL is immutable: a reload takes it from the cache.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `window.tokenlab !== undefined && !document.getElementById("signin").hidden`, 15*time.Second)
	if again := wasmTiming(t, ctx); again.TransferSize != 0 {
		t.Errorf("reload transferred the wasm again (%.0f bytes): it should come from the cache", again.TransferSize)
	}

	// Every encoding a client may ask for is served, as application/wasm.
	page, err := http.Get(baseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	url := regexp.MustCompile(`data-wasm="([^"]+)"`).FindSubmatch(body)
	if url == nil {
		t.Fatalf("no data-wasm in the page")
	}
	for _, enc := range []string{"zstd", "gzip", "identity"} {
		req, _ := http.NewRequest("GET", baseURL+string(url[1]), nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := resp.Header.Get("Content-Encoding")
		if got == "" {
			got = "identity"
		}
		t.Logf("Accept-Encoding %s: %d bytes, Content-Encoding %s", enc, n, got)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("%s: %s, Content-Type %q", enc, resp.Status, resp.Header.Get("Content-Type"))
		}
		if enc != "zstd" && got != enc {
			t.Errorf("asked %s, got Content-Encoding %s", enc, got)
		}
	}
}
