/**
 * /docs in a real browser (Debian's Chromium, headless, through playwright-core), as a person
 * opens it: through nginx, under the page's Content-Security-Policy.
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, settings } from "./client.ts";

const DOCS = `https://localhost:${settings.httpsPort}/docs`;

describe("the /docs page in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  }, 30_000);
  afterAll(async () => browser?.close());

  it("lists the API's operations and gets a prediction from 'try it out', with no CSP violation or error in the console", async () => {
    // The browser answers the gateway's Basic challenge with these, as a person would in its prompt.
    const page = await browser.newPage({
      ignoreHTTPSErrors: true,
      httpCredentials: { username: credentials.user, password: credentials.password },
    });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    // The browser reports each blocked script, style, image or request as this event.
    await page.addInitScript(() =>
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`),
      ),
    );
    const response = await page.goto(DOCS);
    expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'sha256-/);
    await page.locator(".opblock-summary-path", { hasText: "/predict" }).click();
    await page.getByRole("button", { name: "Try it out" }).click();
    const sent = page.waitForResponse((r) => r.url().endsWith("/predict"));
    await page.getByRole("button", { name: "Execute" }).click();
    expect((await sent).status()).toBe(200);
    await expect
      .poll(() =>
        page.locator(".live-responses-table tbody .response-col_status").first().textContent(),
      )
      .toContain("200");
    await expect
      .poll(() =>
        page.locator(".live-responses-table tbody .response-col_description").first().textContent(),
      )
      .toContain("prediction value");
    expect(await page.locator(".opblock-summary-path").allTextContents()).toEqual([
      "/predict",
      "/feedback",
    ]);
    expect(problems).toEqual([]);
  }, 60_000);

  it("runs no inline script but its own: one injected into the page is refused", async () => {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const violations: string[] = [];
    page.on("console", (message) => {
      if (message.text().startsWith("CSP violation")) violations.push(message.text());
    });
    await page.addInitScript(() =>
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`CSP violation: ${event.violatedDirective}`),
      ),
    );
    await page.goto(DOCS);
    const ran = await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.injected = true;";
      document.body.append(script);
      return (window as unknown as { injected?: boolean }).injected === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => violations).toContainEqual(expect.stringContaining("script-src"));
  }, 60_000);
});
