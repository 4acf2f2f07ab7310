// Relay: relay-compiler 21 compiles the small app of clients/relay/src (a @refetchable
// fragment on Event with a @connection on Event.sessions, and one on Session with a
// @connection on Session.registrations) against schema/*.graphqls, and relay-runtime's
// Environment runs the artifacts against the gateway: the event page, refetching by
// node(id:), and loading the next pages of both connections, as usePaginationFragment
// does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import relay from 'relay-runtime';
import { compileRelay } from '../relay/compile.mjs';
import { GRAPHQL_URL, recorder, rawData, fixtures } from './lib.mjs';

const { Environment, Network, RecordSource, Store, fetchQuery, createOperationDescriptor, getSelector, getRefetchMetadata, getPaginationMetadata } = relay;

let compiled;
let artifact;
before(async () => {
  compiled = await compileRelay();
  const load = createRequire(join(compiled.artifacts, 'index.js'));
  artifact = (name) => load(`./${name}.graphql.js`);
});
after(() => compiled && rm(compiled.dir, { recursive: true, force: true }));

function environment(rec) {
  const network = Network.create(async (params, variables) => {
    const res = await rec.fetch(GRAPHQL_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
    });
    return res.json();
  });
  return new Environment({ network, store: new Store(new RecordSource()) });
}

/** read returns what the environment's store gives for a fragment reference (Relay's useFragment), failing on missing data. */
function read(env, fragment, ref) {
  const snapshot = env.lookup(getSelector(fragment, ref));
  assert.equal(snapshot.isMissingData, false, `${fragment.name} is complete in the store`);
  return snapshot.data;
}

/**
 * assertFromServer checks that every value a Relay read returned is the value the server
 * sent at the same place (Relay reads only what the fragment selects, and fragment
 * references stand in for nested fragments).
 */
function assertFromServer(data, sent, path = 'data') {
  if (Array.isArray(data)) {
    assert.ok(Array.isArray(sent), `${path}: the server sent ${JSON.stringify(sent)}`);
    assert.equal(data.length, sent.length, `${path}: length`);
    data.forEach((v, i) => assertFromServer(v, sent[i], `${path}[${i}]`));
  } else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      if (k.startsWith('__') || k === ' $fragmentSpreads' || k === ' $fragmentType') continue;
      assert.ok(sent && k in sent, `${path}.${k}: not sent by the server`);
      assertFromServer(v, sent[k], `${path}.${k}`);
    }
  } else {
    assert.equal(data, sent, path);
  }
}

test('relay-compiler compiles a @refetchable Event fragment with @connection on Event.sessions and Session.registrations', () => {
  const eventFragment = artifact('EventSessions_event');
  const { refetchableRequest, fragmentRefPathInResponse, identifierInfo } = getRefetchMetadata(eventFragment, 'test');
  assert.equal(refetchableRequest.params.name, 'EventSessionsPaginationQuery');
  assert.deepEqual(fragmentRefPathInResponse, ['node'], 'the refetch query reads the event through node(id:)');
  assert.equal(identifierInfo.identifierField, 'id');
  assert.match(refetchableRequest.params.text, /node\(id: \$id\)/);
  const { connectionPathInFragmentData } = getPaginationMetadata(eventFragment, 'test');
  assert.deepEqual(connectionPathInFragmentData, ['sessions']);
  const sessionFragment = artifact('SessionRegistrations_session');
  assert.deepEqual(getPaginationMetadata(sessionFragment, 'test').connectionPathInFragmentData, ['registrations']);
  assert.equal(getRefetchMetadata(sessionFragment, 'test').refetchableRequest.params.name, 'SessionRegistrationsPaginationQuery');
});

test('relay-runtime: the event page query, read back through the fragments, is what the server sent', async () => {
  const { events } = await fixtures();
  const rec = recorder();
  const env = environment(rec);
  const query = artifact('EventPageQuery');
  const variables = { id: events[0].id };
  await fetchQuery(env, query, variables).toPromise();
  const sent = rec.exchanges.at(-1).response;
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));

  const root = env.lookup(createOperationDescriptor(query, variables).fragment).data;
  const event = read(env, artifact('EventSessions_event'), root.event);
  assertFromServer(event, sent.data.event, 'event');
  assert.equal(event.id, events[0].id);
  assert.equal(event.sessions.edges.length, 2, 'the fragment\'s default count');
  for (const [i, { node }] of event.sessions.edges.entries()) {
    const session = read(env, artifact('SessionRegistrations_session'), node);
    assertFromServer(session, sent.data.event.sessions.edges[i].node, `event.sessions.edges[${i}].node`);
    assert.equal(session.registrations.edges.length, 5);
  }
});

test('a refetch by node(id:) (EventSessionsPaginationQuery) is answered with the event, and the store shows it', async () => {
  const { events } = await fixtures();
  const rec = recorder();
  const env = environment(rec);
  const refetch = artifact('EventSessionsPaginationQuery');
  const variables = { id: events[1].id, count: 3 };
  await fetchQuery(env, refetch, variables).toPromise();
  const sent = rec.exchanges.at(-1).response;
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  assert.equal(sent.data.node.__typename, 'Event');
  assert.equal(sent.data.node.id, events[1].id);

  const root = env.lookup(createOperationDescriptor(refetch, variables).fragment).data;
  const event = read(env, artifact('EventSessions_event'), root.node);
  assertFromServer(event, sent.data.node, 'node');
  // The same event as its root lookup gives it, field for field.
  const direct = await rawData(
    `query($id: ID!) { event(id: $id) { id livestormId title schedulingStatus registrantsCount
      registrationFields { fieldId type required }
      sessions(first: 3) { totalCount pageInfo { endCursor hasNextPage }
        edges { cursor node { id name status estimatedStartedAt registrantsCount } } } } }`,
    { id: events[1].id },
  );
  assertFromServer(event, direct.event, 'event(id:)');
});

test('@connection pagination: the next pages of Event.sessions and Session.registrations are appended in the store', async () => {
  const { events } = await fixtures();
  const rec = recorder();
  const env = environment(rec);
  const query = artifact('EventPageQuery');
  const eventFragment = artifact('EventSessions_event');
  const sessionFragment = artifact('SessionRegistrations_session');
  const variables = { id: events[2].id };
  await fetchQuery(env, query, variables).toPromise();
  const ref = env.lookup(createOperationDescriptor(query, variables).fragment).data.event;
  const first = read(env, eventFragment, ref);
  assert.equal(first.sessions.edges.length, 2);
  assert.equal(first.sessions.pageInfo.hasNextPage, true);

  // loadNext: the pagination query from the last cursor, through node(id:).
  await fetchQuery(env, artifact('EventSessionsPaginationQuery'), {
    id: first.id,
    count: 2,
    cursor: first.sessions.pageInfo.endCursor,
  }).toPromise();
  const all = read(env, eventFragment, ref);
  const expected = await rawData(`query($id: ID!) { event(id: $id) { sessions(first: 50) { totalCount nodes { id } } } }`, variables);
  assert.deepEqual(all.sessions.edges.map((e) => e.node.id), expected.event.sessions.nodes.map((s) => s.id));
  assert.equal(all.sessions.totalCount, expected.event.sessions.totalCount);
  assert.equal(all.sessions.pageInfo.hasNextPage, false);

  // The nested connection: a session's registrations, 5 then 5 more.
  const sessionRef = all.sessions.edges[0].node;
  const page1 = read(env, sessionFragment, sessionRef);
  await fetchQuery(env, artifact('SessionRegistrationsPaginationQuery'), {
    id: page1.id,
    count: 5,
    cursor: page1.registrations.pageInfo.endCursor,
  }).toPromise();
  const page2 = read(env, sessionFragment, sessionRef);
  const registrations = await rawData(
    `query($id: ID!) { session(id: $id) { registrations(first: 10) {
      edges { cursor node { id attended answers { fieldId value } person { id email firstName lastName } } } } } }`,
    { id: page1.id },
  );
  assert.equal(page2.registrations.edges.length, 10);
  assertFromServer(page2.registrations.edges, registrations.session.registrations.edges, 'registrations');
  for (const x of rec.exchanges) assert.equal(x.response.errors, undefined, JSON.stringify(x.response.errors));
});
