/** The part of a writable stream the CLI writes to (`process.stdout`, or a buffer in tests). */
export interface OutputStream {
  write(text: string): unknown;
  /** True on a terminal: progress is drawn as a live bar. */
  isTTY?: boolean;
  /** Terminal width, to keep the progress bar on one line. */
  columns?: number;
}
