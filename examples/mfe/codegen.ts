// GraphQL Code Generator (client preset): typed documents for every `graphql(...)` call under
// src/, from the committed supergraph. `persistedDocuments` also writes
// src/gql/persisted-documents.json: the manifest of this MFE's operations (sha256 of each
// printed document -> document) that the router trusts (docs/mfe.md). `make mfe-check` fails
// when the committed output differs from what this generates.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema/supergraph.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: {
          DateTime: 'string',
          Decimal: 'string',
          JSON: 'unknown',
          Upload: 'File',
        },
      },
    },
  },
};

export default config;
