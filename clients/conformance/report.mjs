// A node:test reporter that prints one JSON line per finished test, for the Go test that
// runs this suite (TestClientConformance) to turn into one subtest per check:
//
//   {"name": "...", "status": "pass"|"fail"|"todo"|"skip", "ms": 12.3, "error": "..."}
//
//   node --test --test-reporter=./conformance/report.mjs conformance/apollo.test.mjs
//
// Diagnostics (t.diagnostic, console output of the tests) go out as {"diagnostic": "..."}.
export default async function* report(source) {
  for await (const { type, data } of source) {
    switch (type) {
      case 'test:pass':
      case 'test:fail': {
        if (data.details?.type === 'suite') break;
        const status = data.todo !== undefined && data.todo !== false ? 'todo'
          : data.skip !== undefined && data.skip !== false ? 'skip'
          : type === 'test:pass' ? 'pass' : 'fail';
        const line = { name: data.name, nesting: data.nesting, status, ms: data.details?.duration_ms };
        if (typeof data.todo === 'string') line.todo = data.todo;
        if (type === 'test:fail') line.error = describe(data.details?.error);
        yield `${JSON.stringify(line)}\n`;
        break;
      }
      case 'test:diagnostic':
        yield `${JSON.stringify({ diagnostic: data.message })}\n`;
        break;
      case 'test:stdout':
      case 'test:stderr':
        yield `${JSON.stringify({ diagnostic: String(data.message).trimEnd() })}\n`;
        break;
      default:
    }
  }
}

/** describe is an error's message, its cause's when the runner wrapped it. */
function describe(err) {
  if (!err) return 'failed';
  const inner = err.cause ?? err;
  const msg = inner?.message ?? String(inner);
  return inner?.code === 'ERR_TEST_FAILURE' ? msg : String(msg);
}
