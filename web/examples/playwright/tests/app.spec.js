// The example app (web/examples/app) gets its tokens from tokenlab's embed
// and hands each to its SDK client (a stand-in that records every
// updateToken and judges each token as Twilio would). The test causes
// each of the lab's faults and checks that the client gets a fresh, valid
// token after it.
const { test, expect } = require("./tokenlab");

// The README's example.
test("the app's client gets a fresh token after an expiry", async ({ page, lab }) => {
  await page.goto("?ttl=10");
  await page.waitForFunction(() => window.app?.client.calls.length === 1);
  const session = await page.evaluate(() => tokenlab.snapshot().sessionId);
  // tokenlab mints one token per identity per second: order in the next one.
  await page.waitForFunction(() => Date.now() >= (Math.floor(app.client.calls[0].at / 1000) + 1) * 1000);
  await lab.expire(session); // POST /admin/sessions/{id}/expire
  await page.waitForFunction(() => app.client.calls.length === 2 && app.client.calls[1].ok);
});

test("the app's client gets a fresh token through every fault", async ({ page, lab }) => {
  await page.goto(`?username=pw-${Date.now()}&ttl=10`);
  await page.waitForFunction(() => window.app?.client.calls.length === 1);
  let session = await page.evaluate(() => tokenlab.snapshot().sessionId);
  await page.waitForFunction(() => tokenlab.snapshot().connected);

  // freshToken causes something, then waits for the client's next token
  // and checks the client took it. Tokens minted within one second are
  // the same token, so it starts in the next second.
  const freshToken = async (cause) => {
    const n = await page.evaluate(() => app.client.calls.length);
    await page.waitForFunction(() => Date.now() / 1000 >= Math.floor(app.client.calls.at(-1).at / 1000) + 1);
    await cause();
    await page.waitForFunction((n) => app.client.calls.length > n, n);
    expect(await page.evaluate(() => app.client.calls.at(-1))).toMatchObject({ ok: true });
  };

  await test.step("the embed renews on its own", () => freshToken(async () => {}));
  await test.step("expire now", () => freshToken(() => lab.expire(session)));
  await test.step("warn now, from the page's test hook", () => freshToken(() => page.evaluate(() => tokenlab.test.warnNow())));
  for (const status of [401, 429, 500, 503]) {
    await test.step(`two renewals fail with ${status}`, () =>
      freshToken(async () => {
        await lab.fail(session, 2, status);
        await lab.warn(session);
      }));
  }
  await test.step("a renewal held 1.5 s", () =>
    freshToken(async () => {
      await lab.delay(session, 1500);
      await lab.warn(session);
    }));

  await test.step("a server clock an hour ahead", async () => {
    await lab.skew(session, 3600);
    const n = await page.evaluate(() => app.client.calls.length);
    await lab.expire(session);
    await page.waitForFunction((n) => app.client.calls.length > n, n);
    expect(await page.evaluate(() => app.client.calls.at(-1))).toMatchObject({ ok: false, code: 20105 });
    await freshToken(async () => {
      await lab.skew(session, 0);
      await lab.expire(session);
    });
  });

  for (const code of [1001, 1006]) {
    await test.step(`sockets dropped with ${code}`, async () => {
      await lab.drop(session, code);
      await page.waitForFunction(() => window.events.some((e) => e.type === "disconnected") && tokenlab.snapshot().connected);
      await freshToken(async () => expect(await lab.warn(session)).toMatchObject({ connections: 1 }));
      await page.evaluate(() => (window.events = []));
    });
  }

  await test.step("the session ends (4002): the app signs in again, in the same page", async () => {
    const had = await page.evaluate(() => app.client.calls.map((c) => c.jti));
    await lab.drop(session, 4002);
    await expect(page.locator("#client-status")).toHaveText("session ended: sign in again");
    await page.waitForFunction(() => Date.now() / 1000 >= Math.floor(app.client.calls.at(-1).at / 1000) + 1);
    await page.evaluate(() => (window.endedClient = app.client)); // a page load would lose it
    await page.getByRole("button", { name: "Sign in again" }).click(); // calls tokenlab.embed again
    await page.waitForFunction(() => window.endedClient && app.client !== window.endedClient && app.client.calls.length === 1);
    const first = await page.evaluate(() => app.client.calls[0]);
    expect(first.ok).toBe(true);
    expect(had).not.toContain(first.jti);
    const ended = session;
    session = await page.evaluate(() => tokenlab.snapshot().sessionId);
    expect(session).not.toBe(ended);
    await page.waitForFunction(() => tokenlab.snapshot().connected);
    await freshToken(() => lab.expire(session));
    // The renewal's tokenlab:token: the new session, expiresAt in unix seconds (the token's exp).
    const [renewal, exp] = await page.evaluate(() => [window.events.filter((e) => e.name === "tokenlab:token").at(-1), app.client.calls.at(-1).exp]);
    expect(renewal).toMatchObject({ sessionId: session, expiresAt: exp });
  });

  await test.step("revoked: the session ends", async () => {
    await lab.revoke(session);
    await expect(page.locator("#client-status")).toHaveText("signed out by tokenlab");
  });

  expect(await page.evaluate(() => app.client.calls.filter((c) => !c.ok && c.code !== 20105))).toEqual([]);
  expect(await page.evaluate(() => app.client.fired.filter((f) => f.event === "tokenExpired"))).toEqual([]);
});
