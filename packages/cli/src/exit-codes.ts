/** The CLI's exit codes: success, a failed feature or other error, a usage error, Ctrl-C (SIGINT), SIGTERM (128 + the signal's number, as shells report). */
export const EXIT_CODES = { success: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;
