// Unit tests of the pieces the CLI prints with: formatting, the summary, the progress bar, run()'s usage errors.
// Nothing here loads @mlforge/core at runtime, so DuckDB's native module stays out of this test process.
import type { BuildResult, MlforgeError } from "@mlforge/core";
import { formatBuildSummary } from "../src/build-summary";
import { formatBytes, formatDuration, formatTable, formatValue } from "../src/format";
import { safeOutputStream } from "../src/output-stream";
import { createProgressReporter } from "../src/progress";
import { run } from "../src/run";

function recorder(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, text: () => chunks.join(""), isTTY, columns: 80, write: (text: string) => chunks.push(text) };
}

function buildError(message: string): MlforgeError {
  return Object.assign(new Error(message), { name: "FeatureBuildError" }) as unknown as MlforgeError;
}

test("formats sizes and durations for people", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(1023)).toBe("1023 B");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB");
  expect(formatDuration(120.4)).toBe("120 ms");
  expect(formatDuration(3400)).toBe("3.4 s");
  expect(formatDuration(125_000)).toBe("2 min 5 s");
});

test("formats row values for table cells as DuckDB shows them", () => {
  const midnight = new Date("2025-01-31T00:00:00Z");
  expect(formatValue(null)).toBe("null");
  expect(formatValue(midnight, "DATE")).toBe("2025-01-31");
  expect(formatValue(midnight, "TIMESTAMP")).toBe("2025-01-31 00:00:00");
  expect(formatValue(new Date("2025-01-31T14:05:09.250Z"), "TIMESTAMP")).toBe("2025-01-31 14:05:09.250");
  expect(formatValue(midnight, "TIMESTAMP WITH TIME ZONE")).toBe("2025-01-31 00:00:00 UTC");
  expect(formatValue(9007199254740993n, "BIGINT")).toBe("9007199254740993");
  expect(formatValue([1n, 2], "BIGINT[]")).toBe("[\"1\",2]");
  expect(formatValue("two\nlines")).toBe("two lines");
  expect(formatValue("x".repeat(50))).toBe(`${"x".repeat(39)}…`);
});

test("lays out a table with padded, aligned columns", () => {
  const table = formatTable([{ header: "name" }, { header: "rows", align: "right" }], [["a_long_name", "5"], ["b", "1,000"]]);
  expect(table).toBe("name          rows\n-----------  -----\na_long_name      5\nb            1,000\n");
});

test("the build summary keeps definition order and lists each failure's message", () => {
  const result: BuildResult = {
    built: [{ name: "second", status: "built", rows: 5000, bytes: 2048, uri: "/s/second.parquet", durationMs: 120 }],
    skipped: [],
    failed: [{ name: "first", status: "failed", rows: 0, bytes: 0, uri: "", durationMs: 3, error: buildError("Feature 'first' failed to build: Binder Error\nLINE 1: x") }],
    durationMs: 1250,
  };
  expect(formatBuildSummary(result, ["first", "second"])).toBe(
    [
      "name    status   rows     size  duration",
      "------  ------  -----  -------  --------",
      "first   failed      -        -      3 ms",
      "second  built   5,000  2.0 KiB    120 ms",
      "",
      "Failed:",
      "  first: Feature 'first' failed to build: Binder Error",
      "    LINE 1: x",
      "",
      "1 built, 0 skipped, 1 failed in 1.3 s",
      "",
    ].join("\n"),
  );
});

test("the build summary says what a build repaired (a malformed metadata document)", () => {
  const note = "Its metadata document was malformed (rows is \"lots\", not a whole number of 0 or more); rewrote it from the data file's footer.";
  const result: BuildResult = {
    built: [],
    skipped: [{ name: "a", status: "skipped", rows: 2, bytes: 10, uri: "/s/a.parquet", durationMs: 4, note }],
    failed: [],
    durationMs: 100,
  };
  expect(formatBuildSummary(result)).toContain(`\nNotes:\n  a: ${note}\n`);
});

test("on a terminal, progress is one bar redrawn in place and cleared at the end", () => {
  const stream = recorder(true);
  const progress = createProgressReporter(stream);
  const entry = { name: "a", status: "built" as const, rows: 1, bytes: 1, uri: "", durationMs: 1 };
  progress.onProgress({ type: "start", name: "a", index: 0, total: 2 });
  progress.onProgress({ type: "end", name: "a", index: 0, total: 2, result: entry });
  progress.onProgress({ type: "start", name: "b", index: 1, total: 2 });
  progress.finish();
  expect(stream.chunks).toEqual([
    "\r\u001b[2K[--------------------] 0/2 building a",
    "\r\u001b[2K[##########----------] 1/2 a built",
    "\r\u001b[2K[##########----------] 1/2 building b",
    "\r\u001b[2K",
  ]);
  expect(stream.text()).not.toContain("\n");
});

test("through a stream that escapes control characters, the bar's own redraw passes and a name's ESC does not", () => {
  const stream = recorder(true);
  const progress = createProgressReporter(safeOutputStream(stream));
  progress.onProgress({ type: "start", name: "a\u001b[2Jb", index: 0, total: 1 });
  progress.finish();
  expect(stream.text()).toBe("\r\u001b[2K[--------------------] 0/1 building a\\u001b[2Jb\r\u001b[2K");
});

test("run() escapes control characters in usage errors that quote the command line", async () => {
  const stderr = recorder();
  expect(await run(["build", "--fo\u001b]0;x\u0007rce"], { stdout: recorder(), stderr, cwd: process.cwd() })).toBe(2);
  expect(stderr.text()).toContain("--fo\\u001b]0;x\\u0007rce");
  expect(stderr.text()).not.toMatch(/[\u001b\u0007]/);
  expect(formatValue("a\u001bb\u009bc")).toBe("a\\u001bb\\u009bc");
});

test("run() reports usage errors with exit code 2 and prints help with 0", async () => {
  for (const argv of [["build", "--frce"], ["deploy"], ["inspect"], ["list", "--force"], ["build", "--features", ","]]) {
    const stdout = recorder();
    const stderr = recorder();
    expect(await run(argv, { stdout, stderr, cwd: __dirname })).toBe(2);
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toMatch(/^Error: .+\nRun `mlforge --help` for usage\.\n$/);
  }
  const stdout = recorder();
  expect(await run(["inspect", "--help"], { stdout, stderr: recorder(), cwd: __dirname })).toBe(0);
  expect(stdout.text()).toContain("inspect <feature>");
});
