// graphql-request 7, the minimal client of scripts and server code: typed documents
// (TypedDocumentNode, here through JSDoc), variables with DateTime inputs, batches, and
// errors surfaced as ClientError with the gateway's extensions.code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLClient, ClientError, batchRequests, gql } from 'graphql-request';
import { parse } from 'graphql';
import { GRAPHQL_URL, fixtures } from './lib.mjs';

const client = new GraphQLClient(GRAPHQL_URL, { headers: { 'graphql-client-name': 'conformance-suite' } });
const rfc3339UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/**
 * @typedef {{ id: string, title: string, createdAt: string | null, sessions: { nodes: { id: string, estimatedStartedAt: string | null, registrantsCount: number }[] } | null }} EventRow
 * @typedef {{ events: { totalCount: number, nodes: EventRow[] } | null }} EventsResult
 * @typedef {{ first?: number, createdUntil?: string | number }} EventsVariables
 * @type {import('@graphql-typed-document-node/core').TypedDocumentNode<EventsResult, EventsVariables>}
 */
const EventsDocument = parse(`
  query Events($first: Int, $createdUntil: DateTime) {
    events(first: $first, filter: { createdUntil: $createdUntil }) {
      totalCount
      nodes { id title createdAt sessions { nodes { id estimatedStartedAt registrantsCount } } }
    }
  }
`);

test('a typed request with variables: DateTime inputs as RFC 3339 (with fractional seconds) or Unix seconds, outputs as RFC 3339 UTC', async () => {
  const now = new Date();
  const iso = await client.request(EventsDocument, { first: 3, createdUntil: now.toISOString() });
  assert.equal(iso.events.nodes.length, 3);
  assert.ok(iso.events.totalCount >= 3);
  for (const e of iso.events.nodes) {
    assert.match(e.createdAt, rfc3339UTC, 'createdAt is RFC 3339 in UTC with second precision');
    assert.ok(new Date(e.createdAt) <= now, 'the filter applied');
    for (const s of e.sessions.nodes) if (s.estimatedStartedAt) assert.match(s.estimatedStartedAt, rfc3339UTC);
  }
  const unix = await client.request(EventsDocument, { first: 3, createdUntil: Math.floor(now.getTime() / 1000) });
  assert.deepEqual(unix, iso, 'Unix seconds mean the same instant');
});

test('BAD_USER_INPUT is surfaced as a ClientError carrying the errors, the partial data and the HTTP status', async () => {
  const err = await client.request(EventsDocument, { first: 1000 }).then(
    () => assert.fail('first: 1000 is over the maximum'),
    (e) => e,
  );
  assert.ok(err instanceof ClientError, `a ClientError, got ${err}`);
  assert.equal(err.response.status, 200, 'an executed operation: 200 with errors');
  assert.equal(err.response.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.deepEqual(err.response.errors[0].path, ['events']);
  assert.equal(err.response.data.events, null);
  assert.match(err.message, /first/);

  const { upcomingSession } = await fixtures();
  const register = gql`
    mutation Register($input: RegisterPersonInput!) {
      registerPerson(input: $input) { registration { id } }
    }
  `;
  const bad = await client.request(register, { input: { sessionId: upcomingSession.id, email: 'not an address' } }).catch((e) => e);
  assert.ok(bad instanceof ClientError);
  assert.equal(bad.response.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.equal(bad.response.errors[0].extensions.field, 'input.email');
});

test('a validation failure is a ClientError with status 400 (application/graphql-response+json)', async () => {
  const err = await client.request(gql`{ events { nodes { nope } } }`).catch((e) => e);
  assert.ok(err instanceof ClientError, `a ClientError, got ${err}`);
  assert.equal(err.response.status, 400);
  assert.equal(err.response.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(err.response.data, undefined);
});

test('batchRequests sends a JSON array and returns the results in order', async () => {
  const { events } = await fixtures();
  const title = gql`query Title($id: ID!) { event(id: $id) { id title } }`;
  const results = await batchRequests(GRAPHQL_URL, events.map((e) => ({ document: title, variables: { id: e.id } })));
  assert.deepEqual(
    results.map((r) => r.data.event.id),
    events.map((e) => e.id),
  );
  assert.deepEqual(results.map((r) => r.data.event.title), events.map((e) => e.title));
});
