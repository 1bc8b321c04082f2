// The floor: the least a Node proxy can do (node:http + an undici keep-alive Pool, streaming).
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.argv[3]);
const server = createServer((req, res) => {
  pool.stream({ path: req.url, method: req.method, headers: req.headers, body: req.method === 'GET' ? null : req }, ({ statusCode, headers }) => {
    res.writeHead(statusCode, headers);
    return res;
  }).catch(() => { if (!res.headersSent) res.writeHead(502); res.end(); });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log(`ready ${server.address().port}`));
