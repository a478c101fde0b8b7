/** The one-table data model: USCC, regions, record types and validation. */
export * from './errors.ts';
export * from './regions.ts';
export * from './rules.ts';
export * from './scoring.ts';
export * from './types.ts';
export * from './uscc.ts';
export * from './validate.ts';
