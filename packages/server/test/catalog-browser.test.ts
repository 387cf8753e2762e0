// The catalog page in a real browser: Debian's chromium through playwright-core, no network.
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createFeatureServer } from "@mlforge/server";
import type { FastifyInstance } from "fastify";
import { chromium, type Browser } from "playwright-core";
import { createFixture, type Fixture } from "./support/fixture";

const INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium";

function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`chromium is not installed, and the catalog page's browser tests need it. Install it with: ${INSTALL_CHROMIUM}`);
  }
}

let fixture: Fixture;
let server: FastifyInstance;
let base: string;
let browser: Browser;
let screenshots: string;
const token = "catalog-token-1";

beforeAll(async () => {
  const executablePath = chromiumPath();
  screenshots = await mkdtemp(path.join(tmpdir(), "mlforge-catalog-screens-"));
  fixture = await createFixture();
  server = createFeatureServer({ defs: fixture.open(), token });
  base = await server.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fixture?.remove();
});

test("asks for the token once, then searches, filters by tag and shows a feature's schema, statistics and charts", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const outside: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) outside.push(request.url());
  });
  await page.goto(`${base}/`);
  await page.locator("#token-input").fill(token);
  await page.locator("#token-form button").click();
  await page.waitForSelector("body[data-ready=true]");
  await expect(page.locator("#features li").count()).resolves.toBe(3);

  await page.locator("#search").fill("category");
  expect(await page.locator("#features li").evaluateAll((items) => items.map((item) => item.getAttribute("data-feature")))).toEqual(["user_top_category"]);
  await page.locator("#search").fill("");
  await page.locator('button.tag[data-tag="accounts"]').click();
  expect(await page.locator("#features li").evaluateAll((items) => items.map((item) => item.getAttribute("data-feature")))).toEqual(["account_counter"]);
  await page.locator('button.tag[data-tag="accounts"]').click();
  await expect(page.locator("#features li").count()).resolves.toBe(3);

  await page.locator('#features li[data-feature="user_spend"] a').click();
  await page.waitForSelector("#schema-holder[data-stats=ready]");
  expect(await page.locator("#feature-name").textContent()).toBe("user_spend");
  expect(await page.locator("#sql").textContent()).toContain("GROUP BY user_id");
  expect(await page.locator("#online-state").textContent()).toMatch(/^synced (just now|\d+ min ago)$/);
  const rows = await page.locator("#schema tbody tr").evaluateAll((items) =>
    items.map((item) => Array.from(item.querySelectorAll("td")).slice(0, 4).map((cell) => (cell as HTMLElement).textContent?.trim())),
  );
  expect(rows.map((row) => [row[0]?.replace(/(key|timestamp)$/, ""), row[1], row[2], row[3]])).toEqual([
    ["user_id", "VARCHAR", "0", "40"],
    ["total_spend", "DOUBLE", "0", "40"],
    ["transaction_count", "BIGINT", "0", "5"],
    ["as_of", "TIMESTAMP", "0", "5"],
  ]);
  for (const column of ["total_spend", "transaction_count"]) {
    const bars = await page.locator(`svg.histogram[data-column="${column}"] rect`).count();
    expect(bars).toBe(20);
  }
  expect(await page.locator('ul.top-values[data-column="user_id"] li').count()).toBe(5);
  await page.screenshot({ path: path.join(screenshots, "catalog-laptop.png"), fullPage: true });
  // On a laptop screen the statistics table fits its box: the charts are not cut off behind a scrollbar.
  const hidden = await page.locator("#schema-holder .table-wrap").evaluate((box) => box.scrollWidth - box.clientWidth);
  expect(hidden).toBeLessThanOrEqual(0);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(screenshots, "catalog-phone.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect(outside).toEqual([]);
  // The token was asked for once: reloading the tab keeps it.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  expect(await page.locator("#token-dialog").isHidden()).toBe(true);
  process.stdout.write(`catalog screenshots: ${screenshots}\n`);
  await page.close();
});

test("/docs needs the token: a browser without it gets 401, one that sends the header gets the page listing every route", async () => {
  const refused = await browser.newPage();
  const response = await refused.goto(`${base}/docs`);
  expect(response?.status()).toBe(401);
  expect(await refused.locator("body").textContent()).toContain("UnauthorizedError");
  await refused.close();

  // A browser, proxy or extension that adds the header, as playwright's extraHTTPHeaders does.
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}` }, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const outside: string[] = [];
  const statuses: number[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) outside.push(request.url());
  });
  page.on("response", (answer) => statuses.push(answer.status()));
  expect((await page.goto(`${base}/docs`))?.status()).toBe(200);
  await page.waitForSelector(".opblock-summary-path");
  const paths = await page.locator(".opblock-summary-path").evaluateAll((items) => items.map((item) => item.getAttribute("data-path")));
  expect([...paths].sort()).toEqual(["/features", "/features/online", "/features/{name}", "/features/{name}/stats", "/health", "/metrics", "/ready"]);
  expect(statuses.filter((status) => status >= 400)).toEqual([]);
  expect(outside).toEqual([]);
  await page.screenshot({ path: path.join(screenshots, "docs-with-token.png"), fullPage: false });
  await context.close();
});
