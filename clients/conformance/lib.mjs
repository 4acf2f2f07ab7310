// Shared helpers of the client conformance suite: where the gateway is, a fetch that
// records what went over the wire, raw queries, and the demo data the checks use.
//
// GATEWAY_URL is the gateway's GraphQL endpoint (default http://127.0.0.1:8080/graphql,
// what `make run` serves). The checks expect demo mode: anonymous callers are admin, the
// seeded workspace has ended and upcoming events, and the simulator registers someone
// every 3 s (the subscription checks wait for that).
import assert from 'node:assert/strict';

export const GRAPHQL_URL = process.env.GATEWAY_URL || 'http://127.0.0.1:8080/graphql';
export const WS_URL = GRAPHQL_URL.replace(/^http/, 'ws');

/** How long a subscription check waits for the demo's next registration (one every 3 s). */
export const LIVE_EVENT_TIMEOUT_MS = 20_000;

/**
 * recorder returns a fetch to hand to a client library, and the exchanges it saw: every
 * request (method, URL, parsed JSON body or GET parameters) with the status and parsed
 * JSON body the gateway answered. The client receives the very bytes the server sent
 * (unless rewrite(request, text) changes them: the suite's self-checks use it to play a
 * server that breaks identity).
 */
export function recorder({ rewrite } = {}) {
  const exchanges = [];
  async function recordingFetch(input, init = {}) {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    const method = (init.method || (typeof input === 'object' && input.method) || 'GET').toUpperCase();
    let request;
    if (method === 'GET') {
      const params = new URL(url).searchParams;
      request = Object.fromEntries(params);
      for (const k of ['variables', 'extensions']) if (request[k]) request[k] = JSON.parse(request[k]);
    } else if (typeof init.body === 'string') {
      request = JSON.parse(init.body);
    }
    const res = await fetch(input, init);
    let text = await res.text();
    if (rewrite) text = rewrite(request, text);
    let response;
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      response = eventStreamPayload(text);
    } else {
      try {
        response = JSON.parse(text);
      } catch {
        response = text;
      }
    }
    exchanges.push({ method, url, request, status: res.status, headers: res.headers, response });
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
  return { fetch: recordingFetch, exchanges };
}

/**
 * eventStreamPayload is the result a one-result event stream carried (graphql-sse's
 * distinct connections framing: `event: next` then `event: complete`), or the list of
 * results when it carried several.
 */
function eventStreamPayload(text) {
  const results = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/);
    const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (event === 'next' && data) results.push(JSON.parse(data));
  }
  return results.length === 1 ? results[0] : results;
}

/**
 * serverData returns the data the gateway sent for the one recorded operation named name
 * with these variables (with { last: true }, for the latest of several).
 */
export function serverData(exchanges, name, variables = {}, { last = false } = {}) {
  const found = exchanges.filter(
    (x) => !Array.isArray(x.request) && operationName(x.request) === name && sameVars(x.request.variables, variables),
  );
  if (last) assert.ok(found.length > 0, `no request for ${name} ${JSON.stringify(variables)}`);
  else assert.equal(found.length, 1, `expected one request for ${name} ${JSON.stringify(variables)}, saw ${found.length}`);
  const { response } = found[found.length - 1];
  assert.equal(response.errors, undefined, `${name}: the gateway answered errors: ${JSON.stringify(response.errors)}`);
  return response.data;
}

function operationName(req) {
  if (req?.operationName) return req.operationName;
  return /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(req?.query ?? '')?.[1];
}

function sameVars(a = {}, b = {}) {
  return JSON.stringify(sorted(a ?? {})) === JSON.stringify(sorted(b ?? {}));
}

function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]));
  return v;
}

/** plain turns a client's (possibly frozen, proxied or prototype-less) result into plain JSON values. */
export function plain(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** rawQuery posts one operation with fetch and returns the parsed response (status checked). */
export async function rawQuery(query, variables = {}, headers = {}) {
  const res = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `HTTP ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** rawData is rawQuery for an operation that must succeed: its data. */
export async function rawData(query, variables = {}) {
  const body = await rawQuery(query, variables);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/** withTimeout rejects with a message naming what was awaited when p takes longer than ms. */
export function withTimeout(p, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** uniqueEmail is an address no run used before, for registerPerson. */
export function uniqueEmail(client) {
  return `conformance.${client}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.org`;
}

// Sessions the demo's activity never touches: it registers people to UPCOMING and LIVE
// sessions only, so an event whose sessions are all over gives the same answer to every
// client for the whole run, and a mismatch between a cache and the server is the cache's.
const SETTLED = new Set(['PAST', 'PAST_NOT_STARTED', 'ON_DEMAND', 'CANCELED']);

let fixturesPromise;

/**
 * fixtures finds, once per process, what the checks need in the demo workspace: three
 * events whose sessions are all over (stable data; people registered to several of their
 * sessions), and an upcoming session to register people to.
 */
export function fixtures() {
  fixturesPromise ??= (async () => {
    const data = await rawData(`{
      events(first: 30) { nodes { id livestormId title sessions { nodes { id status } } } }
      sessions(first: 10, filter: { status: UPCOMING }) { nodes { id livestormId name event { id } } }
    }`);
    const settled = data.events.nodes.filter(
      (e) => e.sessions.nodes.length >= 2 && e.sessions.nodes.every((s) => SETTLED.has(s.status)),
    );
    assert.ok(settled.length >= 3, `the demo workspace should have 3 events that are over; found ${settled.length}`);
    assert.ok(data.sessions.nodes.length > 0, 'the demo workspace should have an upcoming session');
    return {
      events: settled.slice(0, 3),
      upcomingSession: data.sessions.nodes[0],
    };
  })();
  return fixturesPromise;
}

/** sharedPeople counts the people that an EventPage-shaped result lists under more than one session. */
export function sharedPeople(event) {
  const seen = new Map();
  for (const s of event.sessions.nodes) {
    for (const { node: r } of s.registrations.edges) seen.set(r.person.id, (seen.get(r.person.id) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id);
}

// The documents the cache checks render, shared by the clients so they ask the same of
// the gateway. An event page: the event, its registration form, its sessions, each with
// its registrations and their people (the same person under several sessions), and the
// event's own people list (the same people again, as plain people).
export const REGISTRATION_FORM_FIELDS = `
  fragment RegistrationFormFields on RegistrationField {
    fieldId type order required custom options multipleAnswers
    attribute { id livestormId slug name type builtin }
  }
`;

export const EVENT_PAGE = `
  query EventPage($id: ID!) {
    event(id: $id) {
      id livestormId title slug status schedulingStatus registrantsCount sessionsCount
      publishedAt createdAt
      owner { id livestormId firstName lastName email role }
      tags { livestormId title }
      registrationFields { ...RegistrationFormFields }
      sessions(first: 3) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        nodes {
          id livestormId name status timezone estimatedStartedAt startedAt endedAt
          registrantsCount attendeesCount
          registrations(first: 50) {
            totalCount
            pageInfo { hasNextPage endCursor }
            edges {
              cursor
              node {
                id createdAt attended attendanceRate attendanceDuration hasViewedReplay
                messagesCount questionsCount connectionLink
                answers { fieldId type value values }
                utm { source medium campaign }
                device { browserName osName }
                location { countryCode city }
                session { id registrantsCount }
                person { id livestormId email firstName lastName role timezone }
              }
            }
          }
        }
      }
      people(first: 50) { totalCount nodes { id livestormId email firstName lastName role } }
    }
  }
  ${REGISTRATION_FORM_FIELDS}
`;

// Registration forms of several events at once, through Relay's nodes(ids:).
export const REGISTRATION_FORMS = `
  query RegistrationForms($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
      ... on Event { title registrationFields { ...RegistrationFormFields } }
    }
  }
  ${REGISTRATION_FORM_FIELDS}
`;

/**
 * differences lists where two JSON values differ, as paths (`event.sessions.nodes[0].name`)
 * with both values, at most limit of them: a readable failure instead of a 200 KB diff.
 */
export function differences(actual, expected, limit = 8, path = '', out = []) {
  if (out.length >= limit) return out;
  const kind = (v) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  if (kind(actual) !== kind(expected)) {
    out.push(`${path || '(root)'}: got ${brief(actual)}, server sent ${brief(expected)}`);
  } else if (kind(actual) === 'array') {
    if (actual.length !== expected.length) out.push(`${path}: got ${actual.length} items, server sent ${expected.length}`);
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) differences(actual[i], expected[i], limit, `${path}[${i}]`, out);
  } else if (kind(actual) === 'object') {
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in actual)) out.push(`${p}: missing (server sent ${brief(expected[k])})`);
      else if (!(k in expected)) out.push(`${p}: not sent by the server (got ${brief(actual[k])})`);
      else differences(actual[k], expected[k], limit, p, out);
      if (out.length >= limit) break;
    }
  } else if (actual !== expected) {
    out.push(`${path}: got ${brief(actual)}, server sent ${brief(expected)}`);
  }
  return out;
}

function brief(v) {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** assertSame fails, listing the first differing paths, unless actual (made plain) equals expected. */
export function assertSame(actual, expected, label = 'result') {
  const diffs = differences(plain(actual), expected);
  assert.ok(diffs.length === 0, `${label} differs from what the server sent:\n  ${diffs.join('\n  ')}`);
}

/** withoutTypename drops every __typename (what a client added to the document for itself). */
export function withoutTypename(v) {
  if (Array.isArray(v)) return v.map(withoutTypename);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '__typename').map(([k, x]) => [k, withoutTypename(x)]));
  }
  return v;
}
