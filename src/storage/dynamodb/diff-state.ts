import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StationStatus } from '../../feed/model.js';
import {
  applyPacked,
  ByteReader,
  ByteWriter,
  copyStatus,
  packImage,
  writeStatus,
  type StateMirror,
} from '../codec/index.js';
import type { DiffState } from '../types.js';
import { isConditionFailed } from './connection.js';
import type { Ctx } from './context.js';
import { deltaKey, diffPk, imageKey } from './keys.js';
import { bytesOf, ITEM_PAYLOAD_MAX, queryAll } from './requests.js';
import { StationTable } from './station-table.js';

export interface DiffUpdate {
  lastDocumentSec: number;
  changed: StationStatus[];
  removed: string[];
  capacities: Map<string, number | null>;
}

/** A full image every IMAGE_EVERY commits; deltas live in a ring of RING items, overwritten in turn. */
export const IMAGE_EVERY = 64;
export const RING = 128;
/** Deltas a reader catches up one GetItem at a time; further behind, it reads image and ring. */
const REFRESH_STEPS = 16;

interface Mirror extends StateMirror {
  rev: number;
  imageRev: number;
  lastDocumentSec: number | null;
}

/** A delta, packed and validated, and the revision it applies to. */
export interface PreparedDelta {
  system: string;
  baseRev: number;
  blob: Buffer;
}

function unpack(blob: Buffer, into: Mirror): void {
  const r = new ByteReader(blob);
  const lastDocumentSec = r.nullableInt();
  const table = StationTable.read(r);
  applyPacked(blob.subarray(r.pos), into, table);
  if (lastDocumentSec !== null) into.lastDocumentSec = lastDocumentSec;
}

function withTable(lastDocumentSec: number | null, table: StationTable, body: Buffer): Buffer {
  const w = new ByteWriter();
  w.nullableInt(lastDocumentSec);
  table.write(w);
  return Buffer.concat([w.view(), body]);
}

/**
 * The producer's diff state of a system in partition D#{system}: an image (the whole state, packed
 * as in the SQLite store) and the deltas written since, one per commitDiff, in a ring of 128 items
 * (sort keys d000 … d127, each overwritten 128 commits later). A new image is written every 64
 * commits, so the ring always holds every delta newer than the image: no delta is ever deleted.
 * Loading is two reads (GetItem image + Query of the ring; a process with a copy reads only the
 * slots after it); a commit, one PutItem of the delta (~10 bytes a changed station) plus, every
 * 64th, the image.
 *
 * A delta is written after the document's events (append is idempotent: after a crash in
 * between, the producer re-diffs the same document and only the delta is new). A delta never
 * overwrites a newer one (condition on its revision): a second producer of the same system fails
 * there, reloads and applies its update on top.
 */
export class DynamoDiffState {
  private readonly mirrors = new Map<string, Mirror>();
  private readonly w = new ByteWriter();

  constructor(private readonly ctx: Ctx) {}

  private async loadMirror(system: string): Promise<Mirror> {
    const mirror: Mirror = {
      rev: 0,
      imageRev: 0,
      lastDocumentSec: null,
      stations: new Map(),
      capacities: new Map(),
    };
    const image = (
      await this.ctx.doc.send(
        new GetCommand({ TableName: this.ctx.table, Key: imageKey(system), ConsistentRead: true }),
      )
    ).Item;
    if (image !== undefined) {
      unpack(bytesOf(image['st']), mirror);
      mirror.rev = mirror.imageRev = image['rev'] as number;
    }
    const deltas = (
      await queryAll(this.ctx.doc, {
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
        ExpressionAttributeValues: { ':pk': diffPk(system), ':d': 'd' },
        ConsistentRead: true,
      })
    )
      .filter((d) => (d['rev'] as number) > mirror.rev)
      .sort((a, b) => (a['rev'] as number) - (b['rev'] as number));
    for (const d of deltas) {
      const rev = d['rev'] as number;
      if (rev !== mirror.rev + 1)
        throw new Error(
          `diff state of ${system}: delta ${mirror.rev + 1} is missing (found ${rev}); the ring was overrun`,
        );
      unpack(bytesOf(d['st']), mirror);
      mirror.rev = rev;
    }
    this.mirrors.set(system, mirror);
    return mirror;
  }

  private async mirror(system: string): Promise<Mirror> {
    return this.mirrors.get(system) ?? this.loadMirror(system);
  }

  /**
   * The state as the table has it now: another process may be the producer. With a copy in
   * memory, only the ring slots after it are read (one GetItem each, usually one that is not
   * there yet) instead of the image and the whole ring.
   */
  private async current(system: string): Promise<Mirror> {
    const m = this.mirrors.get(system);
    if (m === undefined) return this.loadMirror(system);
    for (let step = 0; step < REFRESH_STEPS; step++) {
      const next = m.rev + 1;
      const d = (
        await this.ctx.doc.send(
          new GetCommand({
            TableName: this.ctx.table,
            Key: deltaKey(system, next % RING),
            ConsistentRead: true,
          }),
        )
      ).Item;
      const rev = d?.['rev'] as number | undefined;
      if (rev === undefined || rev < next) return m; // nothing newer
      if (rev > next) break; // the ring went round since: read it all
      unpack(bytesOf(d!['st']), m);
      m.rev = rev;
    }
    return this.loadMirror(system);
  }

  async load(system: string): Promise<DiffState> {
    const m = await this.current(system);
    const stations = new Map<string, StationStatus>();
    for (const [key, s] of m.stations) stations.set(key, copyStatus(s));
    return { lastDocumentSec: m.lastDocumentSec, stations, capacities: new Map(m.capacities) };
  }

  async listStatus(system: string): Promise<StationStatus[]> {
    const m = await this.current(system);
    return [...m.stations.values()].map(copyStatus);
  }

  /** Validate and pack an update against the known state; throws on a bad value, writes nothing. */
  async prepare(system: string, update: DiffUpdate): Promise<PreparedDelta> {
    if (!Number.isSafeInteger(update.lastDocumentSec))
      throw new Error(`lastDocumentSec must be an integer, got ${String(update.lastDocumentSec)}`);
    const m = await this.mirror(system);
    const changed = new Map<string, StationStatus>();
    for (const s of update.changed) changed.set(s.stationId, s);
    const table = new StationTable();
    const w = this.w;
    w.reset();
    w.uint(changed.size);
    for (const s of changed.values()) writeStatus(w, table.add(s.stationId), s);
    const removed = new Set(update.removed);
    w.uint(removed.size);
    for (const key of removed) w.uint(table.add(key));
    // Only capacities that differ from what is stored (after the removals) are written.
    const caps: [string, number | null][] = [];
    update.capacities.forEach((capacity, key) => {
      const stored = removed.has(key) ? undefined : m.capacities.get(key);
      const has = !removed.has(key) && m.capacities.has(key);
      if (has && stored === capacity) return;
      if (capacity !== null && !Number.isSafeInteger(capacity))
        throw new Error(`capacity of station ${key} must be an integer or null`);
      caps.push([key, capacity]);
    });
    w.uint(caps.length);
    for (const [key, capacity] of caps) {
      w.uint(table.add(key));
      w.nullableInt(capacity);
    }
    const blob = withTable(update.lastDocumentSec, table, Buffer.from(w.view()));
    if (blob.length > ITEM_PAYLOAD_MAX)
      throw new Error(`diff state delta of ${system} takes ${blob.length} bytes: more than one item holds`);
    return { system, baseRev: m.rev, blob };
  }

  /** Write a prepared delta (after the events). On a lost race: reload, re-prepare, retry. */
  async save(delta: PreparedDelta, update: DiffUpdate): Promise<void> {
    let d = delta;
    for (let attempt = 0; ; attempt++) {
      const m = await this.mirror(d.system);
      if (m.rev !== d.baseRev) d = await this.prepare(d.system, update);
      const rev = m.rev + 1;
      // The ring must keep every delta newer than the image: write the image first when it would not.
      if (rev - m.imageRev >= RING) await this.writeImage(d.system, m);
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: { ...deltaKey(d.system, rev % RING), rev, st: d.blob },
            ConditionExpression: 'attribute_not_exists(rev) OR rev < :rev',
            ExpressionAttributeValues: { ':rev': rev },
          }),
        );
      } catch (err) {
        if (!isConditionFailed(err) || attempt >= 3) throw err;
        await this.loadMirror(d.system);
        continue;
      }
      unpack(d.blob, m);
      m.rev = rev;
      if (rev - m.imageRev >= IMAGE_EVERY) await this.writeImage(d.system, m);
      return;
    }
  }

  private async writeImage(system: string, m: Mirror): Promise<void> {
    const table = new StationTable();
    const body = Buffer.from(packImage(m, 0, table, this.w));
    const blob = withTable(m.lastDocumentSec, table, body);
    if (blob.length > ITEM_PAYLOAD_MAX)
      throw new Error(`diff state image of ${system} takes ${blob.length} bytes: more than one item holds`);
    try {
      await this.ctx.doc.send(
        new PutCommand({
          TableName: this.ctx.table,
          Item: { ...imageKey(system), rev: m.rev, at: Math.floor(Date.now() / 1000), st: blob },
          ConditionExpression: 'attribute_not_exists(rev) OR rev < :rev',
          ExpressionAttributeValues: { ':rev': m.rev },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err; // a newer image is there already
    }
    m.imageRev = m.rev;
  }

  /** Forget what this process knows (a failed batch, a test). */
  forget(system?: string): void {
    if (system === undefined) this.mirrors.clear();
    else this.mirrors.delete(system);
  }
}
