/** The part of a writable stream the CLI writes to (`process.stdout`, or a buffer in tests). */
export interface OutputStream {
  write(text: string): unknown;
  /** True on a terminal: progress is drawn as a live bar. */
  isTTY?: boolean;
  /** Terminal width, to keep the progress bar on one line. */
  columns?: number;
}

// C0 controls but newline and tab, DEL, and C1 controls (0x9b is a one-byte CSI on some terminals).
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Writes every control character but newline and tab as a `\uXXXX` escape, so that data, key
 * values and messages cannot drive the terminal (ESC sequences, BEL). JSON stays valid: such an
 * escape is what JSON itself uses inside strings.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A stream that escapes control characters in everything written (see `escapeControlCharacters`); `writeControl` writes the CLI's own sequences as they are. */
export interface SafeOutputStream extends OutputStream {
  /** Writes terminal control sequences of the CLI's own (the progress bar's redraw), unescaped. */
  writeControl(text: string): unknown;
}

/** Wraps `stream` so that nothing written through `write` reaches the terminal as a control character. */
export function safeOutputStream(stream: OutputStream): SafeOutputStream {
  return {
    write: (text: string) => stream.write(escapeControlCharacters(text)),
    writeControl: (text: string) => stream.write(text),
    isTTY: stream.isTTY,
    columns: stream.columns,
  };
}
