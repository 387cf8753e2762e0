/** Parses a command-line flag's integer (`42`, `-7`, `200_000`); undefined stays undefined, anything else throws a RangeError naming the flag. */
export function parseInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.replaceAll("_", ""))) throw new RangeError(`--${flag} must be an integer, got '${value}'.`);
  return Number(value.replaceAll("_", ""));
}
