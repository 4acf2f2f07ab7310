// graphql-ws (the graphql-transport-ws protocol) against the gateway.
//
// modes:
//   subscribe   {query, variables, count}: print each result, stop after count
//   operations  {query, mutation, queryVariables, mutationVariables}: a query and a mutation over the socket
//   rejected    {connectionParams, watchMs}: a rejected connection_init, seen by a client
//               with default options (counts its attempts) and by one that does not retry 4403
//   inittimeout {delayMs}: connectionParams resolve late: the gateway closes first
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { args, deadline, fail, out } from "./lib.mjs";

const [url, mode, opt] = args();
const wsURL = url.replace(/^http/, "ws");
deadline(opt.timeoutMs ?? 20000);

function client(extra = {}) {
  return createClient({ url: wsURL, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, ...extra });
}

if (mode === "subscribe") {
  const c = client({ on: { connected: () => out({ event: "connected" }) } });
  let n = 0;
  const dispose = c.subscribe(
    { query: opt.query, variables: opt.variables },
    {
      next: (payload) => {
        out({ event: "next", payload });
        if (++n >= opt.count) {
          dispose();
          c.dispose();
          out({ event: "done" });
        }
      },
      error: fail,
      complete: () => out({ event: "complete" }),
    },
  );
} else if (mode === "operations") {
  const c = client();
  for (const [query, variables] of [[opt.query, opt.queryVariables], [opt.mutation, opt.mutationVariables]]) {
    for await (const result of c.iterate({ query, variables })) {
      out({ event: "result", payload: result });
    }
  }
  await c.dispose();
  out({ event: "done" });
} else if (mode === "rejected") {
  // Default options: graphql-ws retries a 4403 ("might grant access after retry") with
  // its randomised exponential back-off, 5 times at most.
  let attempts = 0;
  const closes = [];
  const lenient = createClient({
    url: wsURL, webSocketImpl: WebSocket, lazy: false, connectionParams: opt.connectionParams,
    onNonLazyError: () => {},
    on: { connecting: () => attempts++, closed: (e) => closes.push({ code: e.code, reason: e.reason }) },
  });
  // An app that does not retry a refusal says so with shouldRetry.
  const strict = await new Promise((resolve) => {
    const c = createClient({
      url: wsURL, webSocketImpl: WebSocket, connectionParams: opt.connectionParams,
      shouldRetry: (e) => e.code !== 4403,
    });
    c.subscribe({ query: "subscription { livestormEvents { type } }" }, {
      next: () => resolve({ unexpected: "next" }),
      error: (e) => { c.dispose(); resolve({ code: e.code, reason: e.reason }); },
      complete: () => resolve({ unexpected: "complete" }),
    });
  });
  await new Promise((r) => setTimeout(r, opt.watchMs ?? 2500));
  await Promise.resolve(lenient.dispose()).catch(() => {}); // dispose rejects while a retry is being refused
  out({ event: "rejected", default: { attempts, closes }, strict });
} else if (mode === "inittimeout") {
  const c = client({
    connectionParams: () => new Promise((resolve) => setTimeout(resolve, opt.delayMs ?? 3000, {})),
    on: { closed: (e) => out({ event: "closed", code: e.code, reason: e.reason }) },
  });
  c.subscribe({ query: "subscription { livestormEvents { type } }" }, {
    next: () => {},
    error: (e) => { out({ event: "error", code: e.code, reason: e.reason }); c.dispose(); },
    complete: () => {},
  });
} else {
  fail(`unknown mode ${mode}`);
}
