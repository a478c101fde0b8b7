/**
 * Base of the project's named errors. Each condition a caller must handle is its own class
 * with a stable `name` and a stable `code`; the API maps codes to GraphQL `extensions.code`
 * only at its boundary.
 */
export class CreditError extends Error {
  static override name = 'CreditError';
  /** Stable machine-readable code (DESIGN §10). */
  readonly code: string = 'INTERNAL';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that fails validation; `details` names fields and rules, never values. */
export class InvalidInputError extends CreditError {
  static override name = 'InvalidInputError';
  override readonly code = 'BAD_USER_INPUT';
  readonly details: Array<{ field: string; rule: string; message: string }>;
  constructor(
    message: string,
    details: Array<{ field: string; rule: string; message: string }> = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.details = details;
  }
}

/** A requested thing does not exist. */
export class NotFoundError extends CreditError {
  static override name = 'NotFoundError';
  override readonly code = 'NOT_FOUND';
}

/** A caller lacks the role or right to do something. */
export class ForbiddenError extends CreditError {
  static override name = 'ForbiddenError';
  override readonly code = 'FORBIDDEN';
}

/** A caller could not be authenticated. */
export class UnauthenticatedError extends CreditError {
  static override name = 'UnauthenticatedError';
  override readonly code = 'UNAUTHENTICATED';
}

/** A configuration file or flag is invalid. */
export class ConfigError extends CreditError {
  static override name = 'ConfigError';
  override readonly code = 'CONFIG';
}
