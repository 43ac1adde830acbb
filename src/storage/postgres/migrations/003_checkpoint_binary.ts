/**
 * Migration 3 (PostgreSQL): checkpoints keep their binary parts as bytea next to the JSON text
 * (codec/checkpoint.ts), instead of base64 inside it. Existing rows keep `state_binary` NULL and
 * read as before.
 */
export const sql = `
ALTER TABLE checkpoints ADD COLUMN state_binary bytea;
`;
