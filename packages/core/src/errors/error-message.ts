/** The message of anything thrown; duck-typed, since errors from a native addon or a VM context fail `instanceof Error`. */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}
