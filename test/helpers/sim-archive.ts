/** A recorded archive made from the simulator: small, deterministic, in the format of ../shared/data. */
import { ArchiveWriter } from '../../src/archive/index.js';
import { generateDocuments, type GenerateOptions, type SimStationDef } from '../../src/sim/index.js';

export async function writeSimArchive(
  dir: string,
  opts: {
    system: string;
    timeZone: string;
    fromSec: number;
    days: number;
    stepSec: number;
  } & Partial<GenerateOptions>,
): Promise<number> {
  const writer = new ArchiveWriter(dir);
  const systemInformation = {
    last_updated: opts.fromSec,
    ttl: 60,
    version: '2.3',
    data: { system_id: opts.system, name: opts.system, language: 'fr', timezone: opts.timeZone },
  };
  await writer.write('system_information', JSON.stringify(systemInformation), opts.fromSec);
  let documents = 0;
  for (const d of generateDocuments({
    ...opts,
    fromSec: opts.fromSec,
    toSec: opts.fromSec + opts.days * 86_400,
    stepSec: opts.stepSec,
  })) {
    if (d.informationDoc)
      await writer.write('station_information', JSON.stringify(d.informationDoc), d.timeSec);
    await writer.write('station_status', JSON.stringify(d.statusDoc), d.timeSec);
    documents++;
  }
  await writer.close();
  return documents;
}

/** Station ids, busiest first: locks are injected where a detector can judge them within hours. */
export function busiestFirst(stations: readonly SimStationDef[]): string[] {
  return [...stations].sort((a, b) => b.busyness - a.busyness).map((s) => s.stationId);
}
