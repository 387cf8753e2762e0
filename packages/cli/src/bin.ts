#!/usr/bin/env node
import { run } from "./run";

const controller = new AbortController();
// Once: a second Ctrl-C falls through to Node's default and ends the process at once.
process.once("SIGINT", () => controller.abort(new Error("Interrupted by Ctrl-C.")));

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), signal: controller.signal });
process.exitCode = code;
// A user's definitions file may hold handles open (an HTTP agent, a timer); end once output is flushed.
process.stdout.write("", () => process.stderr.write("", () => setTimeout(() => process.exit(code), 100).unref()));
