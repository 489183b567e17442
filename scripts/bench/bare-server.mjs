// The reference: a bare node:http server answering every request with the same bytes and headers
// as s3jit's 200. The body arrives on stdin (it holds a sandbox session, so it is not an argument);
// the port is printed on stdout once listening.
import http from "node:http";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const body = Buffer.concat(chunks);
const headers = { "content-type": "application/json", "cache-control": "no-store", "content-length": String(body.length) };

const server = http.createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
