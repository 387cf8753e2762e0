// Usage (from bench/, after a `pnpm bench` made the data): node --import tsx trace/training-and-build.ts train <transactions> <entity rows> [repeats]
// or ... build <transactions>. Prints the start and duration of every engine call and store operation of one
// getTrainingData + writeParquet (or one build), using core's sources; the last repeat is printed (ALL=1: every one).
import path from "node:path";
import { Engine } from "../../packages/core/src/engine";
import { Definitions } from "../../packages/core/src/definitions";
import { LocalStore } from "../../packages/store-local/src/index";
import type { Feature } from "../../packages/core/src/feature";

const [mode, size, entityCount, repeat = "3"] = process.argv.slice(2);
const root = path.resolve(import.meta.dirname, "..", "data");
const data = path.join(root, `transactions-${size}.parquet`);
const store = path.join(root, `store-${size}`);
const entities = path.join(root, `entities-${size}-${entityCount}.parquet`);
process.env.MLFORGE_EXAMPLE_DATA = data;
const module = await import("../../apps/example/src/features");
const features = Object.values(module).filter((value): value is Feature => typeof value === "object" && value !== null && "transform" in value);

let log: string[] = [];
let t0 = performance.now();
const wrap = (name: "run" | "rows" | "columns" | "convertedRows") => {
  const original = Engine.prototype[name] as (...args: unknown[]) => Promise<unknown>;
  (Engine.prototype as any)[name] = async function (this: Engine, ...args: unknown[]) {
    const s = performance.now();
    try { return await original.apply(this, args); } finally { log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} ${name} ${String(args[0]).replace(/\s+/g, " ").slice(0, 110)}`); }
  };
};
for (const name of ["run", "rows", "columns", "convertedRows"] as const) wrap(name);
const open = Engine.open;
Engine.open = async (options) => { const s = performance.now(); try { return await open.call(Engine, options); } finally { log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} Engine.open`); } };
const fork = Engine.prototype.fork;
Engine.prototype.fork = async function () { const s = performance.now(); try { return await fork.call(this); } finally { log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} fork`); } };

for (const method of ["check", "getFile", "getText", "head", "putFile", "putText", "stagingPath"] as const) {
  const original = (LocalStore.prototype as any)[method];
  (LocalStore.prototype as any)[method] = async function (this: unknown, ...args: unknown[]) {
    const s = performance.now();
    try { return await original.apply(this, args); } finally { log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} store.${method} ${String(args[0] ?? "")}`); }
  };
}
const mark = (what: string) => log.push(`${(performance.now() - t0).toFixed(1).padStart(8)} @ ${what}`);
(globalThis as any).mark = mark;
for (let i = 0; i < Number(repeat); i++) {
  log = [];
  const s = performance.now(); t0 = s;
  if (mode === "train") {
    const defs = new Definitions({ name: "bench", features, offlineStore: new LocalStore(store) });
    const frame = await defs.getTrainingData({ features: ["user_total_spend", "user_avg_spend", "user_spend"], entities, timestamp: "event_time" });
    log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} === getTrainingData`);
    await frame.writeParquet(`/tmp/perf-trace-train.parquet`);
    log.push(`${(performance.now() - s).toFixed(1).padStart(8)} after writeParquet`);
    await frame.close();
  } else {
    const defs = new Definitions({ name: "bench", features, offlineStore: new LocalStore(`/tmp/perf-trace-store`) });
    await defs.build({ force: true });
  }
  log.push(`${(s - t0).toFixed(1).padStart(8)} +${(performance.now() - s).toFixed(1).padStart(6)} === total`);
  if (i === Number(repeat) - 1 || process.env.ALL) console.log(log.join("\n"));
}
