// graphql-sse against the gateway, in distinct-connections or single-connection mode.
//
// modes:
//   subscribe   {query, variables, count, singleConnection}: print each result, stop after count
//   operations  {query, mutation, queryVariables, mutationVariables, singleConnection}: a query and a mutation
import { createClient } from "graphql-sse";
import { args, deadline, fail, out } from "./lib.mjs";

const [url, mode, opt] = args();
deadline(opt.timeoutMs ?? 20000);
const client = createClient({
  url,
  singleConnection: !!opt.singleConnection,
  retryAttempts: 0,
  headers: opt.headers ?? {},
  on: { connected: () => out({ event: "connected" }) },
});

try {
  if (mode === "subscribe") {
    let n = 0;
    for await (const result of client.iterate({ query: opt.query, variables: opt.variables })) {
      out({ event: "next", payload: result });
      if (++n >= opt.count) break; // ends the operation (DELETE in single-connection mode)
    }
  } else if (mode === "operations") {
    for (const [query, variables] of [[opt.query, opt.queryVariables], [opt.mutation, opt.mutationVariables]]) {
      for await (const result of client.iterate({ query, variables })) {
        out({ event: "result", payload: result });
      }
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  client.dispose();
  out({ event: "done" });
  process.exit(0);
} catch (e) {
  fail(e);
}
