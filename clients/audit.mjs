// Runs graphql-http's GraphQL-over-HTTP server audits against a URL and prints a JSON
// summary on stdout: {"total","ok","warn","notice","error","failures":[{id,name,status,reason}]}.
//
//   node clients/audit.mjs http://127.0.0.1:8080/graphql
//
// The audits run one after the other (not graphql-http's auditServer, which fires all 61
// requests at once) so a shared CI machine sees a steady trickle, not a burst.
// Exit status: 0 when every audit is ok, 1 otherwise, 2 on a usage or fatal error.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node clients/audit.mjs <graphql url>');
  process.exit(2);
}

const summary = { url, total: 0, ok: 0, warn: 0, notice: 0, error: 0, failures: [] };
try {
  for (const audit of serverAudits({ url })) {
    const result = await audit.fn();
    summary.total++;
    summary[result.status]++;
    if (result.status !== 'ok') {
      let body = '';
      try {
        body = (await result.response.text()).slice(0, 300);
      } catch {
        // body already read by the assertion
      }
      summary.failures.push({
        id: result.id,
        name: result.name,
        status: result.status,
        reason: result.reason,
        httpStatus: result.response?.status,
        body,
      });
    }
  }
} catch (err) {
  console.error('audit aborted:', err);
  process.exit(2);
}
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok === summary.total ? 0 : 1);
