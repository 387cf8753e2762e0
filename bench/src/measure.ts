// One measurement in a fresh process, so that peak memory (maxRSS) belongs to that case alone.
// Usage: node --import tsx measure.ts <case> '<json options>'; prints one JSON line { ms, peakRssMb },
// with the figures the case resolved with, if any (the online read cases' latencies).
import { allCases as cases, beforeCase } from "./cases";

const [name, json] = process.argv.slice(2);
const run = cases[name!] as ((options: unknown) => Promise<unknown>) | undefined;
if (run === undefined) {
  process.stderr.write(`Unknown case '${name}'. Cases: ${Object.keys(cases).join(", ")}.\n`);
  process.exit(2);
}
const options = JSON.parse(json ?? "{}") as Record<string, unknown>;
await beforeCase(name!, options);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const figures = await run(options);
const ms = performance.now() - started;
// CPU time (user + system) of the case in this process: less sensitive than wall time to other load on the machine.
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ ms, cpuMs, peakRssMb: process.resourceUsage().maxRSS / 1024, ...(typeof figures === "object" && figures !== null ? figures : {}) })}\n`);
