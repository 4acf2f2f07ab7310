// Relay's persisted queries as the gateway's trusted documents: relay-compiler with
// persistConfig writes persisted-documents.json ({"<sha256>": "<text>"}) and artifacts that
// carry only the id; the gateway started with PERSISTED_DOCUMENTS=<that file> runs them
// from doc_id (or GraphQL over HTTP's documentId).
//
// It needs the compiled directory and a gateway that loaded its documents:
//   node relay/compile.mjs --persist /tmp/relay     # then start the gateway with
//   PERSISTED_DOCUMENTS=/tmp/relay/persisted-documents.json make run
//   RELAY_PERSISTED_DIR=/tmp/relay node --test conformance/relay-persisted.test.mjs
// (TestClientConformance does all three.) Without RELAY_PERSISTED_DIR it is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import relay from 'relay-runtime';
import { GRAPHQL_URL, recorder, rawData, rawQuery, fixtures, assertSame } from './lib.mjs';

const { Environment, Network, RecordSource, Store, fetchQuery, createOperationDescriptor } = relay;
const dir = process.env.RELAY_PERSISTED_DIR;
const skip = dir
  ? false
  : 'set RELAY_PERSISTED_DIR to a `node relay/compile.mjs --persist` directory whose documents the gateway loaded (go test -run TestClientConformance does)';

test('relay-compiler persistConfig: artifacts carry only an id, and the gateway runs them by doc_id and documentId', { skip }, async () => {
  const documents = JSON.parse(readFileSync(join(dir, 'persisted-documents.json'), 'utf8'));
  const load = createRequire(join(dir, '__generated__', 'index.js'));
  const query = load('./EventPageQuery.graphql.js');
  const { id, text } = query.params;
  assert.equal(text, null, 'a persisted artifact has no query text');
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.ok(documents[id], 'the documents file has the query');

  // The Network a Relay app writes for persisted queries: the id, never the text.
  const rec = recorder();
  const env = new Environment({
    network: Network.create(async (params, variables) => {
      const res = await rec.fetch(GRAPHQL_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' },
        body: JSON.stringify({ doc_id: params.id, variables }),
      });
      return res.json();
    }),
    store: new Store(new RecordSource()),
  });
  const { events } = await fixtures();
  const variables = { id: events[0].id };
  await fetchQuery(env, query, variables).toPromise();
  const [exchange] = rec.exchanges;
  assert.equal(exchange.request.query, undefined);
  assert.equal(exchange.status, 200, JSON.stringify(exchange.response));
  assert.equal(exchange.response.errors, undefined, JSON.stringify(exchange.response.errors));
  // What the id runs is what the text runs.
  assertSame(exchange.response.data, await rawData(documents[id], variables), 'doc_id');
  const snapshot = env.lookup(createOperationDescriptor(query, variables).fragment);
  assert.equal(snapshot.isMissingData, false);

  const res = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ documentId: id, variables }),
  });
  assertSame((await res.json()).data, exchange.response.data, 'documentId');

  const unknown = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ doc_id: '0'.repeat(64), variables }),
  }).then((r) => r.json());
  assert.equal(unknown.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(unknown));
  // Free text still runs for this caller (demo mode: admin; PERSISTED_DOCUMENTS_ONLY=public).
  assert.equal((await rawQuery('{ __typename }')).data.__typename, 'Query');
});
