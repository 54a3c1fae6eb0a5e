// The config folder's public face: the schema and its types, the loader, the README table generator.
export * from './schema.js';
export * from './load.js';
export * from './docs.js';
export * from './liveness.js';
