import type { FeatureBuildResult, FeatureSyncResult } from "@mlforge/core";
import { formatCount, formatDuration } from "./format";
import type { OutputStream, SafeOutputStream } from "./output-stream";

/** One progress event of `build()` or `syncOnline()`: a feature starts, or ends with its result. */
export type ProgressEvent<Result> =
  | { type: "start"; name: string; index: number; total: number }
  | { type: "end"; name: string; index: number; total: number; result: Result };

/** Reports per-feature progress on a stream: a live bar on a terminal, one line per feature otherwise. */
export interface ProgressReporter<Result = FeatureBuildResult> {
  /** Pass as `build({ onProgress })` or `syncOnline({ onProgress })`. */
  onProgress(event: ProgressEvent<Result>): void;
  /** Clears the live bar; call once the work settles. */
  finish(): void;
}

/** What a progress reporter says about one kind of work. */
export interface ProgressWording<Result> {
  /** The live bar's word for a running feature: "building". */
  verb: string;
  /** A finished feature, after its name: "built 5,000 rows in 120 ms". */
  describe: (result: Result) => string;
}

const BAR_WIDTH = 20;

/** Back to the start of the line, and clear it. */
const CLEAR_LINE = "\r\u001b[2K";

/** Describes a finished feature: `built 5,000 rows in 120 ms`. */
export function describeOutcome(result: FeatureBuildResult): string {
  switch (result.status) {
    case "built":
      return `built ${formatCount(result.rows)} rows in ${formatDuration(result.durationMs)}`;
    case "skipped":
      return `skipped (unchanged, ${formatCount(result.rows)} rows)`;
    default:
      return `failed in ${formatDuration(result.durationMs)}`;
  }
}

/** Describes a feature finished syncing: `synced 5,000 rows in 120 ms`. */
export function describeSyncOutcome(result: FeatureSyncResult): string {
  switch (result.status) {
    case "synced":
      return `synced ${formatCount(result.rows)} rows in ${formatDuration(result.durationMs)}`;
    case "skipped":
      return `skipped (already served, ${formatCount(result.rows)} rows)`;
    default:
      return `failed in ${formatDuration(result.durationMs)}`;
  }
}

/** The wording of `mlforge build`'s progress. */
export const BUILD_WORDING: ProgressWording<FeatureBuildResult> = { verb: "building", describe: describeOutcome };
/** The wording of `mlforge sync-online`'s progress. */
export const SYNC_WORDING: ProgressWording<FeatureSyncResult> = { verb: "syncing", describe: describeSyncOutcome };

/** Draws `[#####---------------] 3/7 name`, cut to the terminal width. */
export function progressBar(done: number, total: number, label: string, columns = 80): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  const text = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${done}/${total} ${label}`;
  return text.length < columns ? text : `${text.slice(0, Math.max(0, columns - 2))}…`;
}

/** A progress reporter for `stream`, live when `stream.isTTY`. @param wording @default BUILD_WORDING */
export function createProgressReporter(stream: OutputStream): ProgressReporter<FeatureBuildResult>;
export function createProgressReporter<Result extends { status: string }>(stream: OutputStream, wording: ProgressWording<Result>): ProgressReporter<Result>;
export function createProgressReporter(stream: OutputStream, wording: ProgressWording<{ status: string }> = BUILD_WORDING as never): ProgressReporter<{ status: string }> {
  const live = stream.isTTY === true;
  // A pseudo-terminal may report 0 columns; fall back to a usual width.
  const columns = Math.max(stream.columns || 80, 40);
  let drawn = false;
  // Counted, not taken from the index: the next feature starts while the previous one uploads.
  let done = 0;
  // The redraw sequence is the CLI's own; a stream that escapes control characters takes it through writeControl.
  const safe = (stream as Partial<SafeOutputStream>).writeControl === undefined ? undefined : (stream as SafeOutputStream);
  const control = (text: string) => (safe === undefined ? stream.write(text) : safe.writeControl(text));
  const draw = (text: string) => {
    if (safe === undefined) stream.write(`${CLEAR_LINE}${text}`);
    else {
      safe.writeControl(CLEAR_LINE);
      safe.write(text);
    }
    drawn = true;
  };
  return {
    onProgress(event) {
      if (live) {
        if (event.type === "start") draw(progressBar(done, event.total, `${wording.verb} ${event.name}`, columns));
        else draw(progressBar(++done, event.total, `${event.name} ${event.result.status}`, columns));
      } else if (event.type === "end") {
        stream.write(`[${++done}/${event.total}] ${event.name} ${wording.describe(event.result)}\n`);
      }
    },
    finish() {
      if (drawn) control(CLEAR_LINE);
      drawn = false;
    },
  };
}
