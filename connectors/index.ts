/** Connectors: sources of raw rows and the ingest run that turns them into one-table records. */
export * from './files.ts';
export * from './http.ts';
export * from './ingest.ts';
export * from './open.ts';
export * from './sqlite.ts';
export * from './types.ts';
