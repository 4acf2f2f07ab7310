// subscriptions-transport-ws (the legacy graphql-ws protocol) against the gateway.
//
// modes:
//   subscribe   {query, variables, count}: print each result, stop after count
//   operations  {query, mutation, queryVariables, mutationVariables}: a query and a mutation over the socket
import pkg from "subscriptions-transport-ws";
import WebSocket from "ws";
import { args, deadline, fail, out } from "./lib.mjs";

const { SubscriptionClient } = pkg;
const [url, mode, opt] = args();
deadline(opt.timeoutMs ?? 20000);
const client = new SubscriptionClient(url.replace(/^http/, "ws"), { reconnect: false, connectionParams: opt.connectionParams ?? {} }, WebSocket);
client.onConnected(() => out({ event: "connected" }));
client.onError((e) => out({ event: "socket-error", message: String(e && e.message) }));

function run(request, onResult) {
  return new Promise((resolve, reject) => {
    const sub = client.request(request).subscribe({
      next: (r) => { if (onResult(r, () => { sub.unsubscribe(); resolve(); })) return; },
      error: reject,
      complete: resolve,
    });
  });
}

try {
  if (mode === "subscribe") {
    let n = 0;
    await run({ query: opt.query, variables: opt.variables }, (r, stop) => {
      out({ event: "next", payload: r });
      if (++n >= opt.count) stop();
    });
  } else if (mode === "operations") {
    for (const [query, variables] of [[opt.query, opt.queryVariables], [opt.mutation, opt.mutationVariables]]) {
      await run({ query, variables }, (r) => out({ event: "result", payload: r }));
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  client.close();
  out({ event: "done" });
  process.exit(0);
} catch (e) {
  fail(e);
}
