/** Removes `user:password@` from every URL in `text`, and every known secret (raw or URL-encoded). */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, "$1");
  for (const secret of secrets) {
    if (secret === "") continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) result = result.split(form).join("***");
  }
  return result;
}

/**
 * A copy of an error safe to attach as a `cause`: a plain `Error` with the same name and redacted
 * message (and redacted causes), so that nothing the original holds (a client, its options, a
 * password) is reachable from it or shown by `util.inspect`.
 */
export function redactedError(error: unknown, secrets: readonly string[], depth = 0): Error {
  const message = (error as { message?: unknown } | null)?.message;
  const copy = new Error(redact(typeof message === "string" ? message : String(error), secrets));
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === "string") copy.name = name;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") Object.assign(copy, { code });
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && depth < 5) copy.cause = redactedError(cause, secrets, depth + 1);
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}
