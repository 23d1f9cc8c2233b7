// @ts-check
const { test, expect } = require("./tokenlab");

test("the page renews through the lab's faults", async ({ app: page, lab, tokenlabURL, playwright }) => {
  const user = `pw-${Date.now()}`;
  await page.goto(tokenlabURL + "/");
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill("any password");
  await page.getByLabel("Lifetime (ttl, seconds)").fill("600");
  await page.getByRole("button", { name: "Sign in and mint" }).click();
  await page.waitForFunction(() => window.tokenlab.snapshot().connected);

  const api = await playwright.request.newContext({ baseURL: tokenlabURL,
    extraHTTPHeaders: process.env.TOKENLAB_ADMIN_TOKEN ? { Authorization: `Bearer ${process.env.TOKENLAB_ADMIN_TOKEN}` } : {} });
  const { sessions } = await (await api.get("/admin/sessions")).json();
  const id = sessions.find((s) => s.identity === user).id;

  const renewals = () => page.evaluate(() => window.tokenlab.snapshot().renewals);
  await page.waitForFunction((exp) => Date.now() / 1000 >= exp - 600 + 1, await page.evaluate(() => window.tokenlab.snapshot().expiresAt));
  await lab.expire(id);
  await expect.poll(renewals).toBe(1);
});
