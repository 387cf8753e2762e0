import { spawn } from "node:child_process";
import path from "node:path";

/** How a child process ended, and everything it printed. */
export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process started by `startChild()`. */
export interface RunningChild {
  pid: number;
  /** Resolves once the child prints `ready` as its first line (or ends without doing so). */
  ready: Promise<void>;
  exited: Promise<ChildOutcome>;
  /** Kills the child with SIGKILL, as a crash would. */
  kill(): void;
}

/** Children started by `startChild()` that have not ended yet, for `killChildren()`. */
const running = new Set<RunningChild>();

/**
 * The arguments that make `node` run `script` with `args`: built JavaScript as it is, a TypeScript
 * source (a suite or test running from source under Jest) through register-ts.cjs, which compiles
 * it and resolves `@mlforge/*` as Jest does.
 */
export function nodeArguments(script: string, args: readonly string[] = []): string[] {
  // Only a workspace source ends in .ts, so register-ts.cjs is then beside this module's source.
  const register = path.extname(script) === ".ts" ? [path.join(__dirname, "register-ts.cjs")] : [];
  return [...register, script, ...args];
}

/** Starts `node <script> ...args` with `environment`, collecting its output; `killChildren()` kills it if a test ends first. */
export function startChild(script: string, args: readonly string[] = [], environment: NodeJS.ProcessEnv = process.env): RunningChild {
  const child = spawn(process.execPath, nodeArguments(script, args), { stdio: ["ignore", "pipe", "pipe"], env: environment });
  let stdout = "";
  let stderr = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith("ready\n")) markReady();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<ChildOutcome>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      markReady();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const started: RunningChild = { pid: child.pid!, ready, exited, kill: () => child.kill("SIGKILL") };
  running.add(started);
  void exited.finally(() => running.delete(started)).catch(() => undefined);
  return started;
}

/** Kills (SIGKILL) every child `startChild()` started that is still running: a test that failed halfway leaves none behind. */
export function killChildren(): void {
  for (const child of running) child.kill();
}
