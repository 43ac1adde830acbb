/**
 * Runs one role as its own process for the fault tests, the way `dockwatch collect|process|serve`
 * will once main.ts wires src/cli/roles.ts in:
 *   node --import tsx test/broker/role-main.ts process --database F --nats-url U --stream S …
 * Flags are --kebab-case; they reach the role as camelCase options.
 */
import { runCollect, runProcess, runServe, type RoleOptions } from '../../src/cli/roles.js';

const [role, ...rest] = process.argv.slice(2);
const opts: RoleOptions = {};
for (let i = 0; i < rest.length; i += 2) {
  const key = rest[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  opts[key] = rest[i + 1];
}
const run =
  role === 'collect' ? runCollect : role === 'process' ? runProcess : role === 'serve' ? runServe : null;
if (run === null) {
  process.stderr.write(`unknown role ${String(role)}\n`);
  process.exit(2);
}
run(opts).catch((err: unknown) => {
  process.stderr.write(`role ${role} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
