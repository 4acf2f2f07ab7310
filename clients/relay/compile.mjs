// Compiles the small Relay app of clients/relay/src with relay-compiler against the
// gateway's schema files (schema/*.graphqls, the source of truth), into a fresh
// directory: artifacts are build output and never land in the repository.
//
//   node relay/compile.mjs [out-dir]      (from clients/; prints the artifacts directory)
//
// relay-compiler wants one schema file and paths under its config's directory, so the
// project is laid out in out-dir: src/ (a copy), schema.graphql (the schema files
// joined), relay.config.json, and __generated__/ with the artifacts (CommonJS).
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const schemaDir = join(here, '..', '..', 'schema');
const require = createRequire(import.meta.url);

/** compileRelay builds the project in dir (a new temporary directory by default) and returns where the artifacts are, with the compiler's output. */
export async function compileRelay(dir) {
  dir ??= await mkdtemp(join(tmpdir(), 'relay-conformance-'));
  await cp(join(here, 'src'), join(dir, 'src'), { recursive: true });
  const files = (await readdir(schemaDir)).filter((f) => f.endsWith('.graphqls')).sort();
  const schema = await Promise.all(files.map((f) => readFile(join(schemaDir, f), 'utf8')));
  await writeFile(join(dir, 'schema.graphql'), schema.join('\n'));
  const artifacts = join(dir, '__generated__');
  await mkdir(artifacts, { recursive: true });
  await writeFile(
    join(dir, 'relay.config.json'),
    JSON.stringify({
      src: './src',
      schema: './schema.graphql',
      language: 'javascript',
      artifactDirectory: './__generated__',
      eagerEsModules: false,
      noSourceControl: true,
    }),
  );
  const cli = require.resolve('relay-compiler/cli.js');
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, '--noWatchman', '--output', 'quiet-with-errors', 'relay.config.json'], {
    cwd: dir,
    timeout: 60_000,
  });
  return { dir, artifacts, output: stdout + stderr };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { artifacts } = await compileRelay(process.argv[2]);
  console.log(artifacts);
}
