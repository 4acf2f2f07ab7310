// Apollo Client 4 against the gateway, as a new user sets it up: the default
// InMemoryCache with no type policies, HttpLink, BatchHttpLink, PersistedQueryLink and
// GraphQLWsLink. What the normalized cache gives back must be what the server sent.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  GRAPHQL_URL, WS_URL, LIVE_EVENT_TIMEOUT_MS, EVENT_PAGE, REGISTRATION_FORMS,
  recorder, serverData, plain, assertSame, differences, rawData, fixtures, sharedPeople, uniqueEmail, withTimeout,
} from './lib.mjs';

const clients = [];
const subscriptions = [];
after(() => {
  subscriptions.forEach((s) => s.unsubscribe());
  clients.forEach((c) => c.stop());
});

function httpClient(rec, linkOptions = {}) {
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri: GRAPHQL_URL, fetch: rec.fetch, ...linkOptions }),
  });
  clients.push(client);
  return client;
}

/**
 * watch subscribes to a watched query for the rest of the test, as a mounted component
 * does, and lets the test wait for a rendering that satisfies a predicate.
 */
function watch(observable) {
  const renders = [];
  const waiters = new Set();
  let failure;
  const sub = observable.subscribe({
    next(result) {
      if (result.error) failure = result.error;
      else if (result.dataState === 'complete') renders.push(result.data);
      for (const w of waiters) w();
    },
    error(err) {
      failure = err;
      for (const w of waiters) w();
    },
  });
  subscriptions.push(sub);
  return {
    /** until resolves with the latest rendering when it satisfies ok. */
    until(ok, what) {
      return withTimeout(
        new Promise((resolve, reject) => {
          const check = () => {
            if (failure) return reject(failure);
            const last = renders.at(-1);
            if (last !== undefined && ok(last)) {
              waiters.delete(check);
              resolve(last);
            }
          };
          waiters.add(check);
          check();
        }),
        10_000,
        what,
      );
    },
  };
}

test('InMemoryCache returns what the server sent: event pages (the same people under several sessions) and registration forms of several events', async () => {
  const { events } = await fixtures();
  const rec = recorder();
  const client = httpClient(rec);
  const eventPage = gql(EVENT_PAGE);
  const forms = gql(REGISTRATION_FORMS);
  const ids = events.map((e) => e.id);

  // Watch the first event page, as a rendered component would, then load everything
  // else: every later write into the normalized cache lands on the records it shows.
  const watched = client.watchQuery({ query: eventPage, variables: { id: ids[0] } });
  const page = watch(watched);
  const firstRender = await page.until(() => true, 'the first event page');
  for (const id of ids.slice(1)) await client.query({ query: eventPage, variables: { id } });
  await client.query({ query: forms, variables: { ids } });

  let shared = 0;
  for (const id of ids) {
    const sent = serverData(rec.exchanges, 'EventPage', { id });
    assertSame(client.readQuery({ query: eventPage, variables: { id } }), sent, `event page ${id}`);
    shared += sharedPeople(sent.event).length;
    // Each person is one record of the cache, whatever session lists it.
    for (const pid of sharedPeople(sent.event)) assert.ok(client.cache.extract()[`Person:${pid}`], pid);
  }
  assert.ok(shared > 0, 'the events list some people under several sessions');
  assertSame(client.readQuery({ query: forms, variables: { ids } }), serverData(rec.exchanges, 'RegistrationForms', { ids }), 'registration forms');
  // The component that rendered first still shows what the server sent for it.
  const latest = await page.until(() => true, 'the first event page, now');
  assertSame(latest, serverData(rec.exchanges, 'EventPage', { id: ids[0] }), 'the first page, still watched');
  assert.equal(latest, firstRender, 'later writes did not change what the first page renders');
  // And a raw fetch of the same document (with Apollo's __typename) agrees with both.
  const sentDocument = rec.exchanges.find((x) => x.request.operationName === 'EventPage').request.query;
  assertSame(await rawData(sentDocument, { id: ids[0] }), serverData(rec.exchanges, 'EventPage', { id: ids[0] }), 'a raw fetch');
});

test('self-check: the comparison fails when the server gives one (type, id) two values, as the old schema did', async () => {
  const { events } = await fixtures();
  const [first, second] = events.map((e) => e.id);
  const page = gql(EVENT_PAGE);
  // The first page lists a person; the second response (a made-up server) gives that
  // person another email, as the old schema gave one Person per-session details.
  const probe = await rawData(EVENT_PAGE, { id: first });
  const person = probe.event.sessions.nodes[0].registrations.edges[0].node.person;
  const other = await rawData(EVENT_PAGE, { id: second });
  const victim = other.event.sessions.nodes[0].registrations.edges
    .map((e) => e.node.person)
    .find((p) => p.id !== person.id && p.email !== person.email);
  const rec = recorder({
    rewrite: (req, text) =>
      req?.variables?.id === second ? text.replaceAll(`"id":"${victim.id}"`, `"id":"${person.id}"`) : text,
  });
  const client = httpClient(rec);
  await client.query({ query: page, variables: { id: first } });
  await client.query({ query: page, variables: { id: second } });
  const diffs = differences(plain(client.readQuery({ query: page, variables: { id: first } })), serverData(rec.exchanges, 'EventPage', { id: first }));
  assert.ok(diffs.some((d) => d.includes('.person.')), 'the first page now shows the second response\'s values for that person');
});

test(
  'two queries selecting different fields of an event\'s registrationFields (a type without id) both stay readable',
  {
    todo:
      'RegistrationField, Tag, RegistrationAnswer, Utm, Device and GeoLocation have no id, so InMemoryCache stores them inside ' +
      'their parent and replaces them whole on every write: the query written first becomes a cache miss (readQuery null, ' +
      'a watched query refetches). Graphcache merges them by path. Fix in the schema (a key per event field) or document a ' +
      'typePolicies merge for these types.',
  },
  async () => {
    const { events } = await fixtures();
    const client = httpClient(recorder());
    const variables = { id: events[0].id };
    const required = gql`query FormRequired($id: ID!) { event(id: $id) { id registrationFields { fieldId required } } }`;
    const types = gql`query FormTypes($id: ID!) { event(id: $id) { id registrationFields { fieldId type } } }`;
    await client.query({ query: required, variables });
    await client.query({ query: types, variables });
    assert.ok(client.readQuery({ query: required, variables }), 'FormRequired is still in the cache after FormTypes');
  },
);

test('registerPerson updates the normalized Session at once, and refetchQueries shows the new registration', async () => {
  const { upcomingSession } = await fixtures();
  const rec = recorder();
  const client = httpClient(rec);
  const email = uniqueEmail('apollo');
  const sessionPage = gql`
    query SessionRegistrants($id: ID!, $email: String!) {
      session(id: $id) {
        id name registrantsCount
        mine: registrations(filter: { email: $email }) { totalCount nodes { id person { id email } } }
      }
    }
  `;
  const variables = { id: upcomingSession.id, email };
  const watched = watch(client.watchQuery({ query: sessionPage, variables }));
  const before = await watched.until(() => true, 'the session page');
  assert.equal(before.session.mine.totalCount, 0);

  const { data } = await client.mutate({
    mutation: gql`
      mutation Register($input: RegisterPersonInput!) {
        registerPerson(input: $input) {
          registration { id createdAt connectionLink person { id email firstName } }
          session { id registrantsCount }
        }
      }
    `,
    variables: { input: { sessionId: upcomingSession.id, email, firstName: 'Ada', lastName: 'Lovelace', utmSource: 'apollo' } },
  });
  const { registration, session } = data.registerPerson;
  assert.equal(registration.person.email, email);
  assert.ok(session.registrantsCount > before.session.registrantsCount, 'the payload counts the new registrant');

  // The payload's Session is the same cache record as the watched page's: its count moved.
  const updated = await watched.until((d) => d.session.registrantsCount === session.registrantsCount, 'the new count');
  assert.equal(updated.session.mine.totalCount, 0, 'lists are not guessed: the filtered list waits for a refetch');

  await client.refetchQueries({ include: ['SessionRegistrants'] });
  const refetched = await watched.until((d) => d.session.mine.totalCount === 1, 'the refetched list');
  assert.equal(refetched.session.mine.nodes[0].id, registration.id);
  assert.equal(refetched.session.mine.nodes[0].person.id, registration.person.id);
  assert.ok(refetched.session.registrantsCount >= session.registrantsCount);
  assert.deepEqual(plain(client.readQuery({ query: sessionPage, variables })), serverData(rec.exchanges, 'SessionRegistrants', variables, { last: true }));
});

test('GraphQLWsLink receives a live registration from the demo activity, and it lands in the cache', async () => {
  const ws = createClient({ url: WS_URL, webSocketImpl: WebSocket, lazy: true });
  const client = new ApolloClient({ cache: new InMemoryCache(), link: new GraphQLWsLink(ws) });
  clients.push(client);
  try {
    const started = Date.now();
    const result = await withTimeout(
      new Promise((resolve, reject) => {
        const sub = client
          .subscribe({
            query: gql`
              subscription NewRegistrations {
                registrationCreated {
                  type occurredAt
                  registration { id createdAt person { id email } }
                  session { id name registrantsCount }
                  event { id title }
                }
              }
            `,
          })
          .subscribe({
            next(r) {
              queueMicrotask(() => sub.unsubscribe());
              r.error ? reject(r.error) : resolve(r.data);
            },
            error: reject,
          });
      }),
      LIVE_EVENT_TIMEOUT_MS,
      'a registrationCreated event over graphql-ws',
    );
    const { registrationCreated: ev } = result;
    assert.equal(ev.type, 'PEOPLE_REGISTERED');
    assert.match(ev.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(ev.registration.person.email);
    assert.ok(ev.session.registrantsCount > 0);
    console.log(`graphql-ws: live registration after ${Date.now() - started} ms`);
    // The event's objects are normalized like a query's.
    const cached = client.cache.readFragment({
      id: client.cache.identify(ev.session),
      fragment: gql`fragment LiveSession on Session { id name registrantsCount }`,
    });
    assert.deepEqual(plain(cached), plain(ev.session));
  } finally {
    await ws.dispose();
  }
});

test('BatchHttpLink sends several queries in one POST and gets their answers in order', async () => {
  const { events } = await fixtures();
  const rec = recorder();
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new BatchHttpLink({ uri: GRAPHQL_URL, fetch: rec.fetch, batchMax: 10, batchInterval: 20 }),
  });
  clients.push(client);
  const header = gql`query EventHeader($id: ID!) { event(id: $id) { id title registrantsCount sessions { totalCount } } }`;
  const org = gql`query Workspace { organization { id name } }`;
  const results = await Promise.all([
    client.query({ query: header, variables: { id: events[0].id } }),
    client.query({ query: org }),
    client.query({ query: header, variables: { id: events[1].id } }),
  ]);

  assert.equal(rec.exchanges.length, 1, 'one HTTP request');
  const [exchange] = rec.exchanges;
  assert.equal(exchange.method, 'POST');
  assert.ok(Array.isArray(exchange.request) && Array.isArray(exchange.response));
  assert.deepEqual(exchange.request.map((op) => op.operationName), ['EventHeader', 'Workspace', 'EventHeader']);
  assert.equal(exchange.response.length, 3);
  assert.equal(results[0].data.event.id, events[0].id);
  assert.equal(results[2].data.event.id, events[1].id);
  // Each answer is what that operation gets when sent alone.
  for (const [i, op] of exchange.request.entries()) {
    // (extensions.cost, on in demo mode, tells what each spent: not part of the answer)
    assert.deepEqual({ data: exchange.response[i].data, errors: exchange.response[i].errors }, { data: await rawData(op.query, op.variables), errors: undefined }, `operation ${i}`);
    assert.deepEqual(plain(results[i].data), exchange.response[i].data);
  }
});

test('PersistedQueryLink (APQ, SHA-256): a miss registers the query, then the hash alone is answered', async () => {
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  // A document this gateway process has not seen, so the first request is a miss.
  const alias = `run${Date.now()}`;
  const query = gql`query PersistedWorkspace { organization { id name } ${alias}: rateLimit { intervalLimit } }`;

  const first = recorder();
  const a = new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: GRAPHQL_URL, fetch: first.fetch })),
  });
  clients.push(a);
  const { data } = await a.query({ query });
  assert.ok(data.organization.id);
  const [miss, register] = first.exchanges;
  assert.equal(first.exchanges.length, 2);
  const hash = miss.request.extensions.persistedQuery.sha256Hash;
  assert.equal(miss.request.query, undefined, 'the first request carries the hash only');
  assert.equal(miss.response.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
  assert.equal(miss.response.errors[0].message, 'PersistedQueryNotFound');
  assert.equal(register.request.extensions.persistedQuery.sha256Hash, hash);
  assert.equal(sha256(register.request.query), hash);
  assert.deepEqual(register.response.data, plain(data));

  // A second client (another page load): the hash alone, as a GET a CDN could cache.
  const second = recorder();
  const b = new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({ uri: GRAPHQL_URL, fetch: second.fetch }),
    ),
  });
  clients.push(b);
  const again = await b.query({ query });
  assert.equal(second.exchanges.length, 1, 'a hit: one request');
  const [hit] = second.exchanges;
  assert.equal(hit.method, 'GET');
  assert.equal(hit.request.query, undefined);
  assert.equal(hit.request.extensions.persistedQuery.sha256Hash, hash);
  assert.equal(hit.status, 200);
  assert.deepEqual(hit.response.data, plain(again.data));
});
