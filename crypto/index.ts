/** Cryptographic building blocks. Imports no other subsystem. */
export * from './canonical.ts';
export * from './ed25519.ts';
export * from './encoding.ts';
export * from './hash.ts';
export * from './merkle.ts';
export * from './note.ts';
