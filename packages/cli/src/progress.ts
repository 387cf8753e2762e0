import type { BuildProgressEvent, FeatureBuildResult } from "@mlforge/core";
import { formatCount, formatDuration } from "./format";
import type { OutputStream, SafeOutputStream } from "./output-stream";

/** Reports build progress on a stream: a live bar on a terminal, one line per feature otherwise. */
export interface ProgressReporter {
  /** Pass as `build({ onProgress })`. */
  onProgress(event: BuildProgressEvent): void;
  /** Clears the live bar; call once the build settles. */
  finish(): void;
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

/** Draws `[#####---------------] 3/7 name`, cut to the terminal width. */
export function progressBar(done: number, total: number, label: string, columns = 80): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  const text = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${done}/${total} ${label}`;
  return text.length < columns ? text : `${text.slice(0, Math.max(0, columns - 2))}…`;
}

/** A progress reporter for `stream`, live when `stream.isTTY`. */
export function createProgressReporter(stream: OutputStream): ProgressReporter {
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
        if (event.type === "start") draw(progressBar(done, event.total, `building ${event.name}`, columns));
        else draw(progressBar(++done, event.total, `${event.name} ${event.result.status}`, columns));
      } else if (event.type === "end") {
        stream.write(`[${++done}/${event.total}] ${event.name} ${describeOutcome(event.result)}\n`);
      }
    },
    finish() {
      if (drawn) control(CLEAR_LINE);
      drawn = false;
    },
  };
}
