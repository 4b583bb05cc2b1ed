/** Error classes that carry where a problem is, so messages can name node, param or port. */

/** A problem with what the user gave (file, args, params): exit code 2, no stack trace. */
export class UserError extends Error {
  override name = 'UserError';
}

/** A node failed; carries the node and, where known, the param or port at fault. */
export class NodeError extends Error {
  override name = 'NodeError';
  constructor(
    message: string,
    readonly where: { param?: string; port?: string } = {},
  ) {
    super(message);
  }
}

/** Thrown when a run is cancelled. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

export function isCancelled(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}
