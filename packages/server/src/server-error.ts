/** The body of every error response: the error's name and a sentence saying what is wrong and what to do. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** An error the server answers with its own status and name (not one of core's errors). */
export class ServerError extends Error {
  constructor(
    /** HTTP status. */
    readonly statusCode: number,
    /** The `error` field of the response body, such as "UnauthorizedError". */
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

/** Rejects with a 503 `StoreTimeoutError` when `work` takes longer than `timeoutMs`. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ServerError(503, "StoreTimeoutError", `${what} did not answer within ${timeoutMs} ms. Check that the store is reachable; the server retries on the next request.`)),
      timeoutMs,
    );
  });
  // The store call may still settle after the timeout: its rejection is handled here, not left unhandled.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
