/** Parses a command-line flag's whole number (`5000`, `5_000`) of at least `minimum`; undefined stays undefined, anything else throws a RangeError naming the flag. */
export function parseWholeNumber(flag: string, value: string | undefined, minimum = 0, maximum = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const digits = value.trim().replaceAll("_", "");
  const number = Number(digits);
  if (!/^\d+$/.test(digits) || number < minimum || number > maximum) {
    throw new RangeError(`--${flag} must be a whole number from ${minimum} to ${maximum}, got '${value}'.`);
  }
  return number;
}
