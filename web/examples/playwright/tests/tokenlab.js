// @ts-check
// Fixtures for testing an app that gets its Twilio tokens from tokenlab.
//
//   lab   orders faults for a session through tokenlab's operator routes
//         (/admin/sessions/{id}/…): expire, warn, fail, delay, skew, drop,
//         revoke. Set TOKENLAB_ADMIN_TOKEN when tokenlab is not on this
//         machine's loopback.
//   app   the app's page, opened with every tokenlab:* event recorded in
//         window.events; the test fails if the page throws.
const { test: base, expect } = require("@playwright/test");

exports.expect = expect;

exports.test = base.extend({
  // tokenlabURL is tokenlab's address (set it in playwright.config.js).
  tokenlabURL: ["http://localhost:8080", { option: true }],

  lab: async ({ playwright, tokenlabURL }, use) => {
    const token = process.env.TOKENLAB_ADMIN_TOKEN;
    const api = await playwright.request.newContext({
      baseURL: tokenlabURL,
      extraHTTPHeaders: token ? { Authorization: `Bearer ${token}` } : {},
    });
    const order = async (sessionId, action, body) => {
      const res = await api.post(`/admin/sessions/${sessionId}/${action}`, { data: body });
      expect(res.ok(), `POST …/${action}: ${res.status()} ${await res.text()}`).toBe(true);
      return res.json();
    };
    await use({
      expire: (id) => order(id, "expire"),
      warn: (id) => order(id, "warn"),
      fail: (id, count, status) => order(id, "fail", { count, status }),
      delay: (id, ms) => order(id, "fail", { delay_ms: ms }),
      skew: (id, seconds) => order(id, "skew", { seconds }),
      drop: (id, code) => order(id, "drop", { code }),
      revoke: (id) => order(id, "revoke"),
    });
    await api.dispose();
  },

  app: async ({ page }, use) => {
    await page.addInitScript(() => {
      window.events = [];
      for (const name of ["tokenlab:token", "tokenlab:notice", "tokenlab:error"])
        addEventListener(name, (e) => window.events.push({ name, ...e.detail }));
    });
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await use(page);
    expect(errors, "errors thrown in the page").toEqual([]);
  },
});
