// engine/document: the .dlflow format; imports only protocol, the engine's own modules, node: and zod.
export { parseDocumentText } from './parse.ts';
export type { ParseOptions, ParseResult } from './parse.ts';
export { readDocumentFile, writeDocumentFile } from './file.ts';
export { serializeDocument } from './serialize.ts';
export { validateDocument, findCycles, nodeRef } from './validate.ts';
export {
  DOCUMENT_MIGRATIONS,
  migrateDocument,
  migrateNodeParams,
  stampTypeVersions,
  MigrationError,
} from './migrations.ts';
export type { DocumentMigration, MigrationContext } from './migrations.ts';
export { rebasePaths, resolveDocPath } from './paths.ts';
export { findJsonError, lineColumn } from './json-error.ts';
export type { JsonErrorLocation } from './json-error.ts';
