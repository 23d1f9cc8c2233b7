package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/web/e2e/browser"
)

// playwrightDir holds the Playwright example, its lockfile pinning
// @playwright/test and playwright-core.
var playwrightDir = filepath.Join("..", "examples", "playwright")

// TestPlaywrightExample runs the README's Playwright example as its users
// would (`npx playwright test`), against this run's tokenlab and the
// example app. It skips, saying how to fix it, without Node or the
// example's node_modules, unless CI is set: there it fails, so that CI
// cannot pass without having run it.
func TestPlaywrightExample(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	missing := func(why string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set, so the Playwright example must run, but " + why)
		}
		t.Skip(why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("Node is not installed: install it with `apt-get install nodejs npm`")
	}
	cli := filepath.Join(playwrightDir, "node_modules", "@playwright", "test", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		missing("the Playwright example's packages are not installed: run `npm ci` in web/examples/playwright (.ci/run does)")
	}
	chromium, _ := browser.Chromium()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("node_modules", "@playwright", "test", "cli.js"), "test")
	cmd.Dir = playwrightDir
	cmd.Env = append(os.Environ(),
		"TOKENLAB_URL="+tokenlabOrigin(),
		"APP_URL="+appURL+"/example/",
		"TOKENLAB_ADMIN_TOKEN="+adminToken,
		"TOKENLAB_CHROMIUM="+chromium,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("npx playwright test:\n%s", out.String())
	if err != nil {
		t.Fatalf("the Playwright example failed: %v", err)
	}
}
