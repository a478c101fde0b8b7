/** Authorisation: principals and tokens, enterprise key bindings, consents, and authorised reads. */
export * from './access.ts';
export * from './bindings.ts';
export * from './consents.ts';
export * from './documents.ts';
export * from './errors.ts';
export * from './joint.ts';
export * from './lifecycle.ts';
export * from './principals.ts';
export * from './purposes.ts';
