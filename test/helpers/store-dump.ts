/** Everything a run leaves in a store, in a comparable form (ids that only number rows are dropped). */
import { openSqliteStore } from '../../src/storage/index.js';

export async function dumpStore(path: string, system: string) {
  const store = openSqliteStore({ path });
  await store.migrate();
  try {
    const events = await store.log.read(0, 10_000_000);
    const changes = (await store.listStateChanges({ system, limit: 10_000_000 })).map(
      ({ id: _id, ...c }) => c,
    );
    const activity = (await store.loadActivity(system, 0)).sort(
      (a, b) => a.day - b.day || a.slot - b.slot || a.stationId.localeCompare(b.stationId),
    );
    const states = (await store.listDetectedStates(system)).sort((a, b) =>
      a.stationId.localeCompare(b.stationId),
    );
    return { events, changes, activity, states };
  } finally {
    await store.close();
  }
}
