import { InvalidOptionError } from "./errors/invalid-option-error";

/** The type an option must have: `names` is an array of strings; `any` is not checked. */
export type OptionKind = "string" | "boolean" | "number" | "function" | "object" | "names" | "any";

/** What `checkOptions` knows of one option: its kind, and an example value for messages ("names" defaults to `["user_total_spend"]`). */
export type OptionSpec = OptionKind | { kind: OptionKind; example?: string };

/** Settings of `checkOptions`. */
export interface CheckOptionsSettings {
  /** The call shown when `options` is not an object, such as `build({ features: ["user_total_spend"] })`. @default none */
  example?: string;
  /**
   * The class to throw instead of `InvalidOptionError`, for owners whose option errors had their
   * own class before `InvalidOptionError` existed. The error still carries InvalidOptionError's
   * marker, `owner` and `options`, so `InvalidOptionError.isInstance(error)` holds. @default InvalidOptionError
   */
  errorClass?: new (message: string) => Error;
}

const described: Record<Exclude<OptionKind, "any">, string> = {
  string: "a string",
  boolean: "true or false",
  number: "a number",
  function: "a function",
  object: "an object",
  names: "an array of names",
};

const defaultExamples: Partial<Record<OptionKind, string>> = { names: '["user_total_spend"]' };

function hasKind(value: unknown, kind: OptionKind): boolean {
  switch (kind) {
    case "names":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "any":
      return true;
    default:
      return typeof value === kind;
  }
}

function optionError(message: string, owner: string, options: readonly string[], settings: CheckOptionsSettings): Error {
  if (settings.errorClass === undefined) return new InvalidOptionError(message, owner, options);
  const error = new settings.errorClass(message);
  Object.defineProperty(error, Symbol.for("mlforge.error.InvalidOptionError"), { value: true });
  return Object.assign(error, { owner, options });
}

/**
 * Checks the options object `owner` was given against `spec`, the options it knows and their
 * kinds: throws `InvalidOptionError` when `options` is not an object, names an option `owner`
 * does not know (a typo would otherwise be ignored silently; the message lists the known ones), or
 * gives a known option (other than undefined) of the wrong kind (the message shows an example).
 */
export function checkOptions(owner: string, options: unknown, spec: Readonly<Record<string, OptionSpec>>, settings: CheckOptionsSettings = {}): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw optionError(`${owner} takes an options object${settings.example === undefined ? "" : `, for example ${settings.example}`}.`, owner, [], settings);
  }
  const known = Object.keys(spec);
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw optionError(`${owner} has unknown option ${unknown.map((key) => `'${key}'`).join(", ")}. Known options: ${known.join(", ")}.`, owner, unknown, settings);
  }
  const given = options as Record<string, unknown>;
  for (const [key, entry] of Object.entries(spec)) {
    const kind: OptionKind = typeof entry === "string" ? entry : entry.kind;
    const example = (typeof entry === "string" ? undefined : entry.example) ?? defaultExamples[kind];
    const value = given[key];
    if (value === undefined || kind === "any" || hasKind(value, kind)) continue;
    throw optionError(`${owner} option '${key}' must be ${described[kind]}${example === undefined ? "" : `, for example ${key}: ${example}`}.`, owner, [key], settings);
  }
}
