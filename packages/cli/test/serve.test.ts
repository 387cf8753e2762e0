// `mlforge serve` and `mlforge ui` as a user runs them: the built binary, a real port, a signal to stop.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, runNode } from "./support/cli";

const project = path.join(__dirname, "fixtures", "project", "definitions.ts");

let workDir: string;
let environment: NodeJS.ProcessEnv;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-serve-"));
  const source = path.join(workDir, "transactions.csv");
  await writeFile(source, "user_id,product_id,amount,event_time\n1,10,5.5,2025-01-01 10:00:00\n2,10,10,2025-01-01 11:00:00\n");
  environment = { ...process.env, MLFORGE_TEST_SOURCE: source, MLFORGE_TEST_STORE: path.join(workDir, "store"), JITI_FS_CACHE: "false" };
  expect((await runNode(bin, ["build", "--target", project], { cwd: workDir, environment })).code).toBe(0);
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Servers still running, killed after each test however it ended: a server left behind never exits, and Jest waits for it. */
const running = new Set<ChildProcess>();

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts the binary and resolves with the catalog URL it prints. */
async function start(args: string[], extraEnvironment: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, ...args, "--target", project, "--port", "0"], { cwd: workDir, env: { ...environment, ...extraEnvironment }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /Feature catalog: (http:\/\/\S+\/)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on("close", (code) => reject(new Error(`mlforge exited with ${code}: ${output}`)));
  });
  return { child, url, output: () => output };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; elapsedMs: number }> {
  const started = Date.now();
  const code = new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
  child.kill(signal);
  return { code: await code, elapsedMs: Date.now() - started };
}

test("mlforge serve listens on 127.0.0.1, serves the catalog, and exits 0 on SIGTERM", async () => {
  const { child, url, output } = await start(["serve"]);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(((await (await fetch(`${url}health`)).json()) as { status: string }).status).toBe("ok");
  const listing = (await (await fetch(`${url}features`)).json()) as { features: Array<{ name: string; online: { state: string } }> };
  expect(listing.features.map((item) => item.name)).toEqual(["user_total_spend", "user_daily_spend", "product_popularity"]);
  expect(listing.features[0]!.online.state).toBe("disabled");
  const lookup = await fetch(`${url}features/online`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ features: ["user_total_spend"], entities: [{ user_id: 1 }] }) });
  expect(lookup.status).toBe(503);
  expect(((await lookup.json()) as { message: string }).message).toContain("no online store");
  const { code, elapsedMs } = await stop(child, "SIGTERM");
  expect(code).toBe(0);
  expect(elapsedMs).toBeLessThan(10_000);
  expect(output()).toContain("Stopped.");
});

test("mlforge serve takes its token from MLFORGE_SERVER_TOKEN and never prints it", async () => {
  const { child, url, output } = await start(["serve"], { MLFORGE_SERVER_TOKEN: "s3cret-token" });
  expect((await fetch(`${url}features`)).status).toBe(401);
  expect((await fetch(`${url}features`, { headers: { authorization: "Bearer s3cret-token" } })).status).toBe(200);
  expect((await fetch(`${url}health`)).status).toBe(200);
  const { code } = await stop(child, "SIGINT");
  expect(code).toBe(0);
  expect(output()).not.toContain("s3cret-token");
});

test("mlforge ui serves the catalog over the offline store and says online lookups need mlforge serve", async () => {
  const { child, url } = await start(["ui"]);
  expect((await fetch(url)).headers.get("content-type")).toContain("text/html");
  const stats = await fetch(`${url}features/user_total_spend/stats`);
  expect(stats.status).toBe(200);
  const lookup = await fetch(`${url}features/online`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ features: ["user_total_spend"], entities: [{ user_id: 1 }] }) });
  expect(lookup.status).toBe(503);
  expect(((await lookup.json()) as { error: string }).error).toBe("OnlineStoreNotConfiguredError");
  expect((await stop(child, "SIGTERM")).code).toBe(0);
});

test("--port must be a port number", async () => {
  const child = spawn(process.execPath, [bin, "serve", "--port", "http"], { cwd: workDir, env: environment, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  expect(await new Promise((resolve) => child.on("close", resolve))).toBe(2);
  expect(stderr).toContain("--port needs a port number from 0 to 65535, got 'http'.");
});
