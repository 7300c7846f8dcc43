// A minimal HTTP target in its own process, so the load generator under test does not share its
// event loop: answers every request with a small JSON body.
import { createServer } from 'node:http';
import { serveAsChild } from './child-server.js';

const body = JSON.stringify({ id: 1, title: 'bench', status: 'pending', priority: 3 });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
serveAsChild(server);
