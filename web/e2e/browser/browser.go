// Package browser is what tokenlab's browser suites (web/e2e, its sdk and
// voice suites) share: finding Chromium and the built binary, and starting
// one headless Chromium for a suite's run, kept off every network but
// loopback.
package browser

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// Chromium returns the browser to drive: $TOKENLAB_CHROMIUM, or the first
// of Debian's and the usual names on PATH; why says how to get one.
func Chromium() (path, why string) {
	if p := os.Getenv("TOKENLAB_CHROMIUM"); p != "" {
		return p, ""
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "Chromium is not installed: install it with `apt-get install chromium` (or set TOKENLAB_CHROMIUM to a Chrome binary)"
}

// Binary returns the absolute path of bin/tokenlab: $TOKENLAB_BIN, or
// rel (the path from the suite's directory); why says how to build it.
func Binary(rel string) (path, why string) {
	bin := os.Getenv("TOKENLAB_BIN")
	if bin == "" {
		bin = rel
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", err.Error()
	}
	if _, err := os.Stat(abs); err != nil {
		return "", bin + " is not built: run `make build` first (make test does)"
	}
	return abs, ""
}

// Start runs one headless Chromium for a suite, with flags added to the
// defaults, and returns the context its tabs are made from and a function
// that ends it.
func Start(chromium string, flags ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox,
		chromedp.ExecPath(chromium),
		// No network beyond loopback: stop Chromium's own calls home.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	opts = append(opts, flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	stop := func() { cancelBrowser(); cancelAlloc() }
	// The first Do starts the browser; it must carry no deadline, which
	// would stop the browser when it passed.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, errors.New("starting Chromium: " + err.Error())
	}
	return ctx, stop, nil
}
