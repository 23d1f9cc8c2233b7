// @ts-check
const { defineConfig } = require("@playwright/test");

// Where the app and tokenlab run: `make example` serves them at these
// addresses, and starts here unless they are already up. tokenlab's own
// suite sets APP_URL and TOKENLAB_URL to its servers on free ports.
const appURL = process.env.APP_URL ?? "http://localhost:3000/";

module.exports = defineConfig({
  testDir: "tests",
  timeout: 90_000,
  workers: 1,
  reporter: process.env.CI ? "line" : "list",
  use: {
    actionTimeout: 20_000,
    baseURL: appURL,
    tokenlabURL: process.env.TOKENLAB_URL ?? "http://localhost:8080",
    // Debian's Chromium (`apt-get install chromium`): nothing to download.
    launchOptions: { executablePath: process.env.TOKENLAB_CHROMIUM ?? "/usr/bin/chromium" },
  },
  webServer: process.env.TOKENLAB_URL
    ? undefined
    : { command: "make -C ../../.. example", url: appURL, reuseExistingServer: true, timeout: 120_000 },
});
