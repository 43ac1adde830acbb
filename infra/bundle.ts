/**
 * Bundles the Lambda entry points (src/serverless/entries/*.ts) with esbuild into
 * dist/lambda/<function>/index.mjs: one self-contained ES module per function (AWS SDK included,
 * so the code does not depend on the SDK version of the runtime), which the CDK stack uploads with
 * Code.fromAsset. `npm run build:lambda` runs it.
 */
import { cpSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const LAMBDA_FUNCTIONS = ['fetch', 'api', 'stream'] as const;
export type LambdaFunctionName = (typeof LAMBDA_FUNCTIONS)[number];

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_LAMBDA_DIR = path.join(repoRoot, 'dist', 'lambda');

/**
 * CommonJS packages inside an ES module bundle still call require() and read __dirname: give them
 * both, from the module's own URL (the usual esbuild recipe for ESM output on Node).
 */
const CJS_SHIM = [
  "import { createRequire as __dwCreateRequire } from 'node:module';",
  "import { fileURLToPath as __dwFileURLToPath } from 'node:url';",
  "import { dirname as __dwDirname } from 'node:path';",
  'const require = __dwCreateRequire(import.meta.url);',
  'const __filename = __dwFileURLToPath(import.meta.url);',
  'const __dirname = __dwDirname(__filename);',
].join('\n');

export interface BundleResult {
  name: LambdaFunctionName;
  file: string;
  bytes: number;
  /** Input bytes per top-level package (what makes the bundle big). */
  inputs: Metafile['inputs'];
}

export async function bundleLambdas(outDir: string = DEFAULT_LAMBDA_DIR): Promise<BundleResult[]> {
  rmSync(outDir, { recursive: true, force: true });
  const results: BundleResult[] = [];
  for (const name of LAMBDA_FUNCTIONS) {
    const dir = path.join(outDir, name);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'index.mjs');
    const out = await build({
      entryPoints: [path.join(repoRoot, 'src', 'serverless', 'entries', `${name}.ts`)],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: true,
      // Function names stay readable in stack traces (CloudWatch logs).
      keepNames: true,
      sourcemap: false,
      banner: { js: CJS_SHIM },
      // Optional native add-ons that are loaded lazily or never on this path.
      external: ['pg-native'],
      metafile: true,
      logLevel: 'warning',
      legalComments: 'none',
    });
    // @fastify/swagger-ui reads its page and scripts from <its dir>/static at start-up.
    if (name === 'api') cpSync(swaggerUiStatic(), path.join(dir, 'static'), { recursive: true });
    results.push({ name, file, bytes: statSync(file).size, inputs: out.metafile.inputs });
  }
  return results;
}

function swaggerUiStatic(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@fastify/swagger-ui/package.json')), 'static');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ?? DEFAULT_LAMBDA_DIR;
  for (const r of await bundleLambdas(outDir))
    console.log(`${path.relative(process.cwd(), r.file)}  ${(r.bytes / 1024).toFixed(0)} KiB`);
}
