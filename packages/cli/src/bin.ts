#!/usr/bin/env node
import { InterruptedError } from "./interrupted-error";
import { run } from "./run";

const controller = new AbortController();
// Once each: a second signal falls through to Node's default and ends the process at once.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort(new InterruptedError(signal)));

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), signal: controller.signal });
process.exitCode = code;
// run() closes the definitions' stores, so the process normally ends by itself here. Last resort,
// for what only the user's definitions file holds open (its own timer, client or server): exit
// anyway once output is flushed. Unref'd, so it never delays an exit that happens by itself.
process.stdout.write("", () => process.stderr.write("", () => setTimeout(() => process.exit(code), 100).unref()));
