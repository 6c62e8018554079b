// The tiny Node http server of the interop matrix: GET|HEAD / says hello, POST|PUT /echo
// returns the request body, any other method gets 405 with Allow.
'use strict';
const http = require('http');

const server = http.createServer((req, res) => {
  if (req.url === '/echo' && (req.method === 'POST' || req.method === 'PUT')) {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => res.end(Buffer.concat(parts)));
    req.on('error', () => { res.statusCode = 400; res.end('bad body\n'); });
    return;
  }
  if (req.url === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.setHeader('Content-Type', 'text/plain');
    res.end('hello\n');
    return;
  }
  if (req.url === '/' || req.url === '/echo') {
    res.statusCode = 405;
    res.setHeader('Allow', req.url === '/' ? 'GET, HEAD' : 'POST, PUT');
    res.end('method not allowed\n');
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});
server.listen(Number(process.argv[2]), '127.0.0.1');
