// The Rust planner's JavaScript executor (@graphql-hive/router-runtime) runs patched: see
// patches/ and docs/router.md "The Rust query planner". patch-package applies the patch from
// the postinstall script, so an install with scripts off (`npm ci --ignore-scripts`,
// npm_config_ignore_scripts) or a node_modules built elsewhere would run the unpatched executor
// without a word. The router refuses to start on it instead.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SettingsError } from './settings.ts';

export const PATCH_MARKER = 'payments-bff patch';
/** How many markers the patch leaves in each of the package's two builds. */
export const PATCH_MARKERS = 8;

export function assertRuntimePatched(): void {
  const dist = dirname(createRequire(import.meta.url).resolve('@graphql-hive/router-runtime'));
  for (const file of ['index.js', 'index.cjs']) {
    const found = readFileSync(join(dist, file), 'utf8').split(PATCH_MARKER).length - 1;
    if (found !== PATCH_MARKERS) {
      throw new SettingsError(
        `ROUTER_RUST_PLANNER=true needs @graphql-hive/router-runtime patched (router/patches/; ` +
          `npm ci runs patch-package): ${file} has ${found} of its ${PATCH_MARKERS} patch markers. ` +
          `Reinstall with scripts on, or set ROUTER_RUST_PLANNER=false`,
      );
    }
  }
}
