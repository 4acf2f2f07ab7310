// Apollo Client 4 with only an HttpLink: subscriptions go over Apollo's multipart HTTP
// protocol (Accept: multipart/mixed;subscriptionSpec=1.0), its default without a
// WebSocket link.
//
// modes:
//   subscribe {query, variables, count}: print each result, stop after count
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { args, deadline, fail, out } from "./lib.mjs";

const [url, mode, opt] = args();
deadline(opt.timeoutMs ?? 20000);
const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache() });

if (mode === "subscribe") {
  let n = 0;
  const sub = client.subscribe({ query: gql(opt.query), variables: opt.variables }).subscribe({
    next: (result) => {
      out({ event: "next", payload: { data: result.data, error: result.error ? String(result.error) : undefined } });
      if (++n >= opt.count) {
        sub.unsubscribe();
        client.stop();
        out({ event: "done" });
        process.exit(0);
      }
    },
    error: fail,
    complete: () => out({ event: "complete" }),
  });
} else {
  fail(`unknown mode ${mode}`);
}
