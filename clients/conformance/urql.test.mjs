// urql 6 with Graphcache, its normalized cache, configured with nothing (no keys, no
// resolvers, no schema), and its subscription exchange over WebSocket (graphql-ws) and
// Server-Sent Events (graphql-sse, distinct connections mode).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, fetchExchange, subscriptionExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';
import { pipe, subscribe as wonkaSubscribe } from 'wonka';
import {
  GRAPHQL_URL, WS_URL, LIVE_EVENT_TIMEOUT_MS, EVENT_PAGE, REGISTRATION_FORMS,
  recorder, serverData, withoutTypename, assertSame, fixtures, sharedPeople, withTimeout,
} from './lib.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** graphcache builds Graphcache's exchange with its defaults, keeping its warnings. */
function graphcache(warnings) {
  return cacheExchange({
    logger(severity, message) {
      if (severity === 'warn' || severity === 'error') warnings.push(message);
    },
  });
}

test("urql's default requests are answered: queries as GET within the URL limit and as POST, with urql's Accept (JSON types first, then text/event-stream, multipart/mixed)", async (t) => {
  const { events } = await fixtures();
  const rec = recorder();
  const client = new Client({ url: GRAPHQL_URL, fetch: rec.fetch, exchanges: [fetchExchange] });
  const header = gql`query EventTitle($id: ID!) { event(id: $id) { id title } }`;
  const get = await client.query(header, { id: events[0].id }).toPromise();
  const post = await client.query(header, { id: events[1].id }, { preferGetMethod: false }).toPromise();
  const [getX, postX] = rec.exchanges;
  const describe = (x) => `${x.method} -> ${x.status} ${x.headers.get('content-type')}: ${JSON.stringify(x.response).slice(0, 300)}`;
  t.diagnostic(`GET answered ${getX.status} ${getX.headers.get('content-type')}; POST answered ${postX.status} ${postX.headers.get('content-type')}`);
  assert.equal(getX.method, 'GET');
  assert.equal(postX.method, 'POST');
  // urql reads JSON and event streams alike; either answer is a success, an error is not.
  assert.ok(!get.error, describe(getX));
  assert.equal(get.data.event.id, events[0].id);
  assert.ok(!post.error, describe(postX));
  assert.equal(post.data.event.id, events[1].id);
});

test('Graphcache returns what the server sent: event pages (the same people under several sessions) and registration forms of several events', async (t) => {
  const { events } = await fixtures();
  const rec = recorder();
  const warnings = [];
  // POST for every operation: urql's default GETs are refused today (the check above),
  // and this check is about the cache.
  const client = new Client({
    url: GRAPHQL_URL,
    fetch: rec.fetch,
    preferGetMethod: false,
    exchanges: [graphcache(warnings), fetchExchange],
  });
  // urql adds __typename to every selection it sends and Graphcache hides those from its
  // results (the app did not ask for them): compare with the server's answer without them.
  const eventPage = gql(EVENT_PAGE);
  const forms = gql(REGISTRATION_FORMS);
  const sent = (name, vars) => withoutTypename(serverData(rec.exchanges, name, vars));
  const ids = events.map((e) => e.id);

  // The first page stays rendered (subscribed) while the others are loaded.
  const renders = [];
  const { unsubscribe } = pipe(
    client.query(eventPage, { id: ids[0] }),
    wonkaSubscribe((r) => renders.push(r)),
  );
  cleanups.push(unsubscribe);
  await withTimeout(
    new Promise((resolve) => {
      const poll = setInterval(() => renders.some((r) => r.data) && (clearInterval(poll), resolve()), 5);
    }),
    10_000,
    'the first event page',
  );
  for (const id of ids.slice(1)) {
    const r = await client.query(eventPage, { id }).toPromise();
    assert.ok(!r.error, String(r.error));
  }
  const formsResult = await client.query(forms, { ids }).toPromise();
  assert.ok(!formsResult.error, String(formsResult.error));

  let shared = 0;
  for (const id of ids) {
    const cached = client.readQuery(eventPage, { id });
    assert.ok(cached?.data, `event page ${id} is in the cache`);
    assertSame(cached.data, sent('EventPage', { id }), `event page ${id}`);
    shared += sharedPeople(sent('EventPage', { id }).event).length;
  }
  assert.ok(shared > 0, 'the events list some people under several sessions');
  assertSame(client.readQuery(forms, { ids }).data, sent('RegistrationForms', { ids }), 'registration forms');
  assertSame(renders.at(-1).data, sent('EventPage', { id: ids[0] }), 'the first page, still rendered');
  // Graphcache warns about types it cannot key: they are the value types the schema
  // leaves without an id on purpose (embedded in their parent), never a Node.
  const unkeyed = new Set(warnings.map((w) => /a `keys` config for `(\w+)`/.exec(w)?.[1]).filter(Boolean));
  t.diagnostic(`Graphcache embeds (no key): ${[...unkeyed].sort().join(', ') || 'nothing'}`);
  for (const type of ['Event', 'Session', 'Registration', 'Person', 'User', 'PeopleAttribute']) {
    assert.ok(!unkeyed.has(type), `${type} is keyed by its id`);
  }
});

/** firstEvent resolves with the first result a subscription delivers through client. */
function firstEvent(client, what) {
  const subscription = gql`
    subscription LiveRegistrations {
      registrationCreated {
        type occurredAt
        registration { id person { id email } }
        session { id registrantsCount }
      }
    }
  `;
  return withTimeout(
    new Promise((resolve, reject) => {
      const { unsubscribe } = pipe(
        client.subscription(subscription, {}),
        wonkaSubscribe((r) => {
          queueMicrotask(unsubscribe);
          r.error ? reject(r.error) : resolve(r.data);
        }),
      );
    }),
    LIVE_EVENT_TIMEOUT_MS,
    what,
  );
}

function assertLiveRegistration(data) {
  const ev = data.registrationCreated;
  assert.equal(ev.type, 'PEOPLE_REGISTERED');
  assert.match(ev.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(ev.registration.id);
  assert.ok(ev.registration.person.email);
  assert.ok(ev.session.registrantsCount > 0);
}

test('subscriptionExchange over WebSocket (graphql-ws) receives a live registration', async () => {
  const ws = createWsClient({ url: WS_URL, webSocketImpl: WebSocket });
  cleanups.push(() => ws.dispose());
  const client = new Client({
    url: GRAPHQL_URL,
    exchanges: [
      graphcache([]),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });
  const started = Date.now();
  assertLiveRegistration(await firstEvent(client, 'a registrationCreated event over graphql-ws'));
  console.log(`urql + graphql-ws: live registration after ${Date.now() - started} ms`);
});

test('subscriptionExchange over Server-Sent Events (graphql-sse, distinct connections) receives a live registration', async () => {
  const sse = createSseClient({ url: GRAPHQL_URL, singleConnection: false, retryAttempts: 0 });
  cleanups.push(() => sse.dispose());
  const client = new Client({
    url: GRAPHQL_URL,
    exchanges: [
      graphcache([]),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: sse.subscribe(input, sink) }) };
        },
      }),
    ],
  });
  const started = Date.now();
  assertLiveRegistration(await firstEvent(client, 'a registrationCreated event over graphql-sse'));
  console.log(`urql + graphql-sse: live registration after ${Date.now() - started} ms`);
});
