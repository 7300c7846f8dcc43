// The target of the templated-workload bench, in its own process so the load generator does not
// share its event loop: an orders service of three routes. POST /orders answers 201 with a new id
// (what the workload captures), GET /orders/:id 200 with the order, GET /orders (a page) 200; and
// GET /tasks/:id, for the Task API preset beside it.
import { createServer } from 'node:http';
import { serveAsChild } from './child-server.js';

let nextId = 1000;
const page = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), customer: 'Ada Lovelace', qty: 3 })), next: null });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const url = req.url ?? '';
    let status = 200;
    let body: string;
    if (req.method === 'POST' && url === '/orders') [status, body] = [201, `{"id":"${++nextId}","qty":3}`];
    else if (req.method === 'GET' && url.startsWith('/orders/')) body = `{"id":"${url.slice(8)}","customer":"Ada Lovelace","qty":3}`;
    else if (req.method === 'GET' && url.startsWith('/orders')) body = page;
    else if (req.method === 'GET' && url.startsWith('/tasks/')) body = `{"id":${url.slice(7)},"title":"bench","status":"pending","priority":3}`; // the Task API preset's reads
    else [status, body] = [404, '{"error":"not found"}'];
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
serveAsChild(server);
