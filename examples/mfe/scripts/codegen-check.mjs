// Drift check for the generated code (like `make schema-check`): runs GraphQL Code Generator
// in memory with codegen.ts and compares every output file, the trusted-documents manifest
// included, with the committed one. Fails when the schema or an operation changed without
// `make mfe-codegen`, or when a generated file is missing or left over. The router's copy of
// the manifest (router/persisted-documents/example-mfe.json, what it trusts) must match too.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';

const root = resolve(import.meta.dirname, '..');
const { config } = await loadCodegenConfig({ configFilePath: join(root, 'codegen.ts') });
const outputs = await generate({ ...config, cwd: root, silent: true }, false);

const problems = [];
const expected = new Set();
for (const { filename, content } of outputs) {
  const path = resolve(root, filename);
  expected.add(path);
  let committed = null;
  try {
    committed = readFileSync(path, 'utf8');
  } catch {
    problems.push(`missing: ${relative(root, path)}`);
    continue;
  }
  if (committed !== content) problems.push(`stale: ${relative(root, path)}`);
}
for (const dir of new Set([...expected].map((p) => resolve(p, '..')))) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!expected.has(path)) problems.push(`not generated (remove it): ${relative(root, path)}`);
  }
}
const manifest = outputs.find((o) => o.filename.endsWith('persisted-documents.json'));
const routerCopy = resolve(root, '../../router/persisted-documents/example-mfe.json');
let routerManifest = null;
try {
  routerManifest = readFileSync(routerCopy, 'utf8');
} catch {
  problems.push(`missing: ${relative(root, routerCopy)}`);
}
if (manifest && routerManifest !== null && routerManifest !== manifest.content) {
  problems.push(`stale: ${relative(root, routerCopy)} (the router's copy of the manifest)`);
}
if (problems.length) {
  console.error(`examples/mfe generated code is out of date; run \`make mfe-codegen\` and commit:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`examples/mfe generated code is up to date (${outputs.length} files).`);
