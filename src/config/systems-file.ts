/**
 * The many-systems file of `dockwatch collect --systems FILE`: YAML or JSON, either a list of
 * systems or `{ systems: [...] }`:
 *
 *   systems:
 *     - id: velib
 *       name: "Vélib' Métropole"
 *       feedUrl: https://velib-metropole-opendata.smovengo.cloud/opendata/Velib_Metropole/gbfs.json
 *       timezone: Europe/Paris     # optional: else system_information's
 *       pollIntervalSec: 60        # optional, default 60
 *       language: fr               # optional, default en
 *
 * Validated at start with every problem listed (file, position, field, what was expected).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Paris');

export const systemEntrySchema = z.strictObject({
  id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
      'must be letters, digits, - or _ (max 63), as it names NATS subjects',
    ),
  name: z.string().min(1, 'must not be empty').max(200).optional(),
  feedUrl: z.url({
    protocol: /^https?$/,
    error: 'must be an http(s) URL of a gbfs.json or station_status.json',
  }),
  timezone: timeZone.optional(),
  pollIntervalSec: z
    .number({ error: 'must be a number of seconds' })
    .min(0.1, 'must be at least 0.1 s')
    .max(3600, 'must be at most 3600 s')
    .default(60),
  language: z.string().min(2).max(10).default('en'),
});

export type SystemEntry = Omit<z.infer<typeof systemEntrySchema>, 'name'> & { name: string };

const listSchema = z.array(systemEntrySchema, { error: 'must be a list of systems' });
const fileSchema = z.strictObject(
  { systems: listSchema },
  { error: 'must be a list of systems or { systems: [...] }' },
);

export class SystemsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid systems file ${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SystemsFileError';
  }
}

/** Parses and validates the text of a systems file; `file` names it in errors and picks the syntax. */
export function parseSystemsFile(text: string, file: string): SystemEntry[] {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SystemsFileError(file, [
      `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  // Validate against the shape the file has, so errors name the right fields.
  const parsed = (Array.isArray(raw) ? listSchema : fileSchema).safeParse(raw);
  if (!parsed.success) {
    throw new SystemsFileError(
      file,
      parsed.error.issues.map((i) => `${describePath(i.path)}: ${i.message}`),
    );
  }
  const entries = Array.isArray(parsed.data) ? parsed.data : parsed.data.systems;
  if (entries.length === 0) throw new SystemsFileError(file, ['no systems: list at least one']);
  const seen = new Set<string>();
  const problems: string[] = [];
  entries.forEach((e, i) => {
    if (seen.has(e.id)) problems.push(`systems[${i}].id: ${JSON.stringify(e.id)} appears twice`);
    seen.add(e.id);
  });
  if (problems.length > 0) throw new SystemsFileError(file, problems);
  return entries.map((e) => ({ ...e, name: e.name ?? e.id }));
}

export function loadSystemsFile(file: string): SystemEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SystemsFileError(file, [`cannot read it: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return parseSystemsFile(text, file);
}

function describePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  if (out.startsWith('[')) out = `systems${out}`;
  return out || 'file';
}
