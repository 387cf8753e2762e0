#!/usr/bin/env node
import { InterruptedError } from "./interrupted-error";
import { run } from "./run";

const controller = new AbortController();
// Once each: a second signal falls through to Node's default and ends the process at once.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort(new InterruptedError(signal)));

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), signal: controller.signal });
process.exitCode = code;
// A user's definitions file may hold handles open (an HTTP agent, a timer); end once output is flushed.
process.stdout.write("", () => process.stderr.write("", () => setTimeout(() => process.exit(code), 100).unref()));
