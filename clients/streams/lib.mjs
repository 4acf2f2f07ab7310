// Shared by the stream client scripts: arguments and JSON-lines output for the Go tests
// that drive them (streams_clients_test.go).

/** out prints one JSON line: what the Go test reads. */
export function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** args returns [url, mode, options] from the command line (options is JSON). */
export function args() {
  const [url, mode, raw] = process.argv.slice(2);
  if (!url || !mode) {
    console.error("usage: node <script> <gateway /graphql URL> <mode> [options JSON]");
    process.exit(2);
  }
  return [url, mode, raw ? JSON.parse(raw) : {}];
}

/** deadline ends the script (as a failure) if it is still running after ms. */
export function deadline(ms) {
  const t = setTimeout(() => {
    out({ event: "timeout", afterMs: ms });
    process.exit(3);
  }, ms);
  t.unref();
}

/** fail reports an unexpected error and exits. */
export function fail(err) {
  out({ event: "error", message: String(err && (err.message || err.reason || err)), code: err && err.code });
  process.exit(1);
}
