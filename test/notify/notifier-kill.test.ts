/**
 * kill -9 of a real notifier process while a delivery waits for its retry: the next process
 * finds it in the outbox and sends it once — nothing lost, nothing sent twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookPayload } from '../../src/notify/index.js';
import {
  heldChange,
  openBoth,
  openNotifier,
  Receiver,
  seedStations,
  SYSTEM,
  tempDir,
  until,
} from './helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = path.join(repoRoot, 'test/notify/fixtures/notifier-child.ts');

function startChild(file: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, file, SYSTEM], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DOCKWATCH_WEBHOOK_ALLOW_PRIVATE: '1',
      DOCKWATCH_NOTIFY_HOLD_SEC: '600',
      DOCKWATCH_WEBHOOK_BACKOFF_MS: '1500',
      DOCKWATCH_WEBHOOK_BACKOFF_MAX_MS: '1500',
      DOCKWATCH_LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`notifier child exited ${code}: ${stderr}`)));
  });
  return { child, ready };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('notifier process killed mid-retry', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children) await killed(c);
  });

  it('resumes from the outbox in a new process: one failed attempt, then exactly one delivery', async () => {
    const tmp = tempDir();
    const receiver = await new Receiver([500, 200]).start();
    try {
      // Set up the database as a running dockwatch would have: stations, a webhook, the announcer's cursor.
      const { store, notifyStore } = await openBoth(tmp.file);
      await seedStations(store);
      const { notifier, service } = await openNotifier({ store, notifyStore });
      await service.createWebhook({ url: `${receiver.url}/hook` });
      await notifier.runOnce();
      await heldChange(store);
      await notifyStore.close();
      await store.close();

      const first = startChild(tmp.file);
      children.push(first.child);
      await first.ready;
      await until(() => receiver.requests.length === 1, 10_000, 'the first attempt');
      // Kill once the failed attempt is on disk, while the retry waits (1.5 s back-off). A kill
      // between the receiver's answer and that commit is the case a lease covers (docs).
      const probe = await openBoth(tmp.file);
      await until(
        async () => (await probe.notifyStore.listDeliveries({ limit: 1 }))[0]?.attempts === 1,
        5000,
        'the attempt to be logged',
      );
      await killed(first.child);
      await probe.notifyStore.close();
      await probe.store.close();
      expect(first.child.signalCode).toBe('SIGKILL');

      const second = startChild(tmp.file);
      children.push(second.child);
      await second.ready;
      await until(() => receiver.requests.length >= 2, 10_000, 'the retry from the new process');
      await new Promise((r) => setTimeout(r, 2000)); // longer than a back-off: a duplicate would show
      expect(receiver.requests.map((r) => r.status)).toEqual([500, 200]);
      const ids = receiver.requests.map((r) => (JSON.parse(r.body.toString('utf8')) as WebhookPayload).id);
      expect(ids[0]).toBe(ids[1]);
      await killed(second.child);

      const reopened = await openBoth(tmp.file);
      const [d] = await reopened.notifyStore.listDeliveries({ limit: 5 });
      expect(d).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(d!.attemptLog.map((a) => a.outcome)).toEqual(['retry', 'delivered']);
      await reopened.notifyStore.close();
      await reopened.store.close();
    } finally {
      await receiver.close();
      tmp.cleanup();
    }
  }, 40_000);
});
