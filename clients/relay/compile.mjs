// Compiles the small Relay app of clients/relay/src with relay-compiler against the
// gateway's schema files (schema/*.graphqls, the source of truth), into a fresh
// directory: artifacts are build output and never land in the repository.
//
//   node relay/compile.mjs [--persist] [out-dir]   (from clients/; prints where it wrote)
//
// With --persist, relay-compiler also writes out-dir/persisted-documents.json, the
// trusted documents ({"<sha256>": "<query text>"}) the gateway's PERSISTED_DOCUMENTS
// reads, and the artifacts carry the document id instead of the text.
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

/**
 * compileRelay builds the project in dir (a new temporary directory by default) and
 * returns where the artifacts (and with persist, the documents) are, with the compiler's
 * output.
 */
export async function compileRelay(dir, { persist = false } = {}) {
  dir ??= await mkdtemp(join(tmpdir(), 'relay-conformance-'));
  await cp(join(here, 'src'), join(dir, 'src'), { recursive: true });
  const files = (await readdir(schemaDir)).filter((f) => f.endsWith('.graphqls')).sort();
  const schema = await Promise.all(files.map((f) => readFile(join(schemaDir, f), 'utf8')));
  await writeFile(join(dir, 'schema.graphql'), schema.join('\n'));
  const artifacts = join(dir, '__generated__');
  await mkdir(artifacts, { recursive: true });
  // relay-compiler merges into an existing documents file and refuses a missing one.
  if (persist) await writeFile(join(dir, 'persisted-documents.json'), '{}');
  await writeFile(
    join(dir, 'relay.config.json'),
    JSON.stringify({
      src: './src',
      schema: './schema.graphql',
      language: 'javascript',
      artifactDirectory: './__generated__',
      eagerEsModules: false,
      noSourceControl: true,
      ...(persist && { persistConfig: { file: './persisted-documents.json', algorithm: 'SHA256' } }),
    }),
  );
  const cli = require.resolve('relay-compiler/cli.js');
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, '--noWatchman', '--output', 'quiet-with-errors', 'relay.config.json'], {
    cwd: dir,
    timeout: 60_000,
  });
  const documents = persist ? join(dir, 'persisted-documents.json') : undefined;
  return { dir, artifacts, documents, output: stdout + stderr };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const persist = args.includes('--persist');
  const { artifacts, documents } = await compileRelay(args.find((a) => a !== '--persist'), { persist });
  console.log(JSON.stringify({ artifacts, documents }));
}
