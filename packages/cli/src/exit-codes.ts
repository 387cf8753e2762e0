/** The CLI's exit codes: success, a failed feature or other error, a usage error, Ctrl-C. */
export const EXIT_CODES = { success: 0, failure: 1, usage: 2, interrupted: 130 } as const;
