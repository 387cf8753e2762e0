// What the CLI tests share: the built binary run in a child process as a user runs it, the
// transactions CSV the fixture projects read, and reading the tables the commands print.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** The built `mlforge` binary (the tests run dist, as a user does). */
export const bin = path.resolve(__dirname, "..", "..", "dist", "bin.js");

/**
 * The transactions the fixture projects read (MLFORGE_TEST_SOURCE). user 1: 5.5 on 01-01, 4.5 on
 * 01-02; user 2: 10 on 01-01; user 3: 1.25 + 2.75 on 01-03. So user_total_spend: 1 → 10, 2 → 10,
 * 3 → 4 (3 rows); user_daily_spend: (1, 01-01), (1, 01-02), (2, 01-01), (3, 01-03) (4 rows);
 * product_popularity: 10 → 3, 11 → 1, 12 → 1 (3 rows).
 */
export const TRANSACTIONS = `user_id,product_id,amount,event_time
1,10,5.5,2025-01-01 10:00:00
1,11,4.5,2025-01-02 10:00:00
2,10,10,2025-01-01 11:00:00
3,12,1.25,2025-01-03 09:00:00
3,10,2.75,2025-01-03 18:00:00
`;

/** A fresh temp directory holding TRANSACTIONS as transactions.csv; fails at once when the CLI is not built. */
export async function createWorkDirectory(prefix: string): Promise<{ workDir: string; source: string }> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing. Build the CLI first: npx turbo run build --filter=@mlforge/cli...`);
  const workDir = await mkdtemp(path.join(tmpdir(), prefix));
  const source = path.join(workDir, "transactions.csv");
  await writeFile(source, TRANSACTIONS);
  return { workDir, source };
}

/** How a child process ended, and what it printed. */
export interface NodeOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of `runNode()`. */
export interface RunNodeOptions {
  cwd: string;
  /** Added to this process's environment. @default {} */
  environment?: NodeJS.ProcessEnv;
  /** A child still running after this long is killed with `killSignal`. @default 60000 */
  timeoutMs?: number;
  /** @default "SIGTERM" */
  killSignal?: NodeJS.Signals;
}

/** Runs `node <script> ...args` to its end, collecting its output. */
export function runNode(script: string, args: readonly string[], options: RunNodeOptions): Promise<NodeOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd,
      // Keep jiti's transpile cache out of the shared temp directory.
      env: { ...process.env, JITI_FS_CACHE: "false", ...options.environment },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
      killSignal: options.killSignal ?? "SIGTERM",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The table line of `stdout` whose first cell is `name`, split into cells; `after` picks the table after that text. */
export function tableRow(stdout: string, name: string, after = ""): string[] | undefined {
  return stdout
    .slice(stdout.indexOf(after))
    .split("\n")
    .find((line) => line.startsWith(`${name} `))
    ?.trim()
    .split(/\s{2,}/);
}
