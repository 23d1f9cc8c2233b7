// Fixtures for testing an app that gets its Twilio tokens from tokenlab.
//
//   lab   orders faults for a session through tokenlab's operator routes
//         (POST /admin/sessions/{id}/expire, warn, fail, skew, drop,
//         revoke). They answer this machine's loopback; elsewhere, set
//         TOKENLAB_ADMIN_TOKEN for tokenlab and for the test.
//   page  as Playwright's, with every tokenlab:* event recorded in
//         window.events from the start, and failing the test if the page
//         throws.
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
    const order = async (session, action, body) => {
      const res = await api.post(`/admin/sessions/${session}/${action}`, { data: body });
      expect(res.ok(), `POST /admin/sessions/…/${action}: ${res.status()} ${await res.text()}`).toBe(true);
      return res.json();
    };
    await use({
      expire: (session) => order(session, "expire"),
      warn: (session) => order(session, "warn"),
      fail: (session, count, status) => order(session, "fail", { count, status }),
      delay: (session, ms) => order(session, "fail", { delay_ms: ms }),
      skew: (session, seconds) => order(session, "skew", { seconds }),
      drop: (session, code) => order(session, "drop", { code }),
      revoke: (session) => order(session, "revoke"),
    });
    await api.dispose();
  },

  page: async ({ page }, use) => {
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
