// Trusted documents (persisted operations). Each MFE's build emits a manifest: a JSON object
// mapping the sha256 of each of its operations (as printed by GraphQL Code Generator's client
// preset; the key may carry a "sha256:" prefix) to the document. The router loads every manifest
// named in ROUTER_PERSISTED_DOCUMENTS (files, or directories of *.json; default
// router/persisted-documents/, one file per MFE), checks that each hash is the document's sha256, and
// executes a request that sends a known hash (`extensions.persistedQuery.sha256Hash`, the APQ
// shape, or `documentId`). With ROUTER_TRUSTED_DOCUMENTS_ONLY (default in production) a request
// carrying a document of its own is refused: only the manifests' operations run. See docs/mfe.md.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse } from 'graphql';
import { SettingsError } from './settings.ts';

export interface TrustedDocuments {
  /** sha256 hex -> document. */
  documents: Map<string, string>;
  /** Names of the manifests' operations (bounded: reported as the metrics' operation_name). */
  operationNames: Set<string>;
  /** Manifest files that were read. */
  loaded: string[];
}

const HASH = /^(?:sha256:)?([0-9a-f]{64})$/;

/** The sha256 hex of a persisted document id, or null when it is not one. */
export function documentHash(id: string): string | null {
  return HASH.exec(id)?.[1] ?? null;
}

/** The manifest files named: a file as is, a directory's `*.json` files in name order. */
function manifestFiles(paths: string[]): string[] {
  return paths.flatMap((path) => {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      return [path]; // reported as unreadable below
    }
    if (!isDirectory) return [path];
    return readdirSync(path)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => join(path, name));
  });
}

export function loadTrustedDocuments(
  paths: string[],
  opts: { required: boolean; warn: (message: string) => void },
): TrustedDocuments {
  const trusted: TrustedDocuments = { documents: new Map(), operationNames: new Set(), loaded: [] };
  for (const path of manifestFiles(paths)) {
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch {
      if (opts.required) {
        throw new SettingsError(`ROUTER_PERSISTED_DOCUMENTS: cannot read ${path} (ROUTER_TRUSTED_DOCUMENTS_ONLY is on)`);
      }
      opts.warn(`trusted documents: ${path} not found; skipped`);
      continue;
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(raw);
    } catch {
      throw new SettingsError(`ROUTER_PERSISTED_DOCUMENTS: ${path} is not JSON`);
    }
    if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
      throw new SettingsError(`ROUTER_PERSISTED_DOCUMENTS: ${path} must be an object of hash -> document`);
    }
    for (const [key, document] of Object.entries(manifest)) {
      const hash = documentHash(key);
      if (hash === null || typeof document !== 'string') {
        throw new SettingsError(`ROUTER_PERSISTED_DOCUMENTS: ${path}: ${JSON.stringify(key)} is not a sha256 hash of a document`);
      }
      if (createHash('sha256').update(document).digest('hex') !== hash) {
        throw new SettingsError(`ROUTER_PERSISTED_DOCUMENTS: ${path}: the document of ${key} does not have that sha256`);
      }
      for (const definition of parse(document).definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) {
          trusted.operationNames.add(definition.name.value);
        }
      }
      trusted.documents.set(hash, document);
    }
    trusted.loaded.push(path);
  }
  if (opts.required && trusted.documents.size === 0) {
    throw new SettingsError('ROUTER_TRUSTED_DOCUMENTS_ONLY is on but ROUTER_PERSISTED_DOCUMENTS lists no document');
  }
  return trusted;
}

const clientError = (message: string) => ({
  message,
  extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
});

/** Hive Gateway's `persistedDocuments` option for these documents. */
export function persistedDocumentsOption(trusted: TrustedDocuments, trustedOnly: boolean) {
  return {
    getPersistedOperation: (key: string) => {
      const hash = documentHash(key);
      return (hash && trusted.documents.get(hash)) || null;
    },
    allowArbitraryDocuments: !trustedOnly,
    customErrors: {
      // The message clients key on (Apollo's APQ convention; urql's persistedExchange).
      notFound: clientError('PersistedQueryNotFound'),
      persistedQueryOnly: clientError(
        'Only trusted documents are accepted: send the sha256 hash of a document of the manifest',
      ),
      keyNotFound: clientError('Send a query, or the sha256 hash of a trusted document'),
    },
  };
}
