'use strict';
// result: shows the votes the worker stored in PostgreSQL. GET / is the page, updated live over
// server-sent events from GET /events; GET /api/results is the JSON; GET /healthz checks the
// database. Plain node:http and Debian's node-pg.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Pool } = require('pg');

const port = Number(process.env.PORT || 8080);
const options = { a: process.env.OPTION_A || 'Cats', b: process.env.OPTION_B || 'Dogs' };
const passwordFile = process.env.POSTGRES_PASSWORD_FILE || '/run/secrets/db_password';
const pollMs = Number(process.env.RESULT_POLL_MS || 1000);

function log(msg) {
  console.log(`result: ${msg}`);
}

// Like initdb and the worker: the first line of the secret file, without its newline.
function readPassword() {
  return fs.readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0];
}

const pool = new Pool({
  host: process.env.DB_HOST || 'db',
  port: Number(process.env.DB_PORT || 5432),
  user: process.env.DB_USER || 'postgres',
  database: process.env.DB_NAME || 'postgres',
  password: readPassword(),
  max: 4,
  connectionTimeoutMillis: 5000,
  idleTimeoutMillis: 10000,
});
// An idle client whose server went away (db restart) must not take the process down.
pool.on('error', (err) => log(`idle database connection failed: ${err.message}`));

async function fetchCounts() {
  const counts = { a: 0, b: 0 };
  let rows;
  try {
    ({ rows } = await pool.query('SELECT vote, count(*)::int AS n FROM votes GROUP BY vote'));
  } catch (err) {
    // The worker creates the table; until it has, there are no votes.
    if (err.code === '42P01') return counts;
    throw err;
  }
  for (const row of rows) if (row.vote in counts) counts[row.vote] = row.n;
  return counts;
}

function results(counts) {
  return { options, counts, total: counts.a + counts.b };
}

const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => escapes[c]);
const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');

function renderPage(latest) {
  return template
    .replaceAll('{{OPTION_A}}', escapeHtml(options.a))
    .replaceAll('{{OPTION_B}}', escapeHtml(options.b))
    .replace('{{INITIAL}}', JSON.stringify(latest).replace(/</g, '\\u003c'));
}

// Server-sent events: one poll loop for all clients, sending only when the counts change.
const clients = new Set();
let latest = results({ a: 0, b: 0 });
let latestJson = '';
let dbOk = true;

async function poll() {
  try {
    const next = JSON.stringify(results(await fetchCounts()));
    if (!dbOk) log('database reachable again');
    dbOk = true;
    if (next !== latestJson) {
      latestJson = next;
      latest = JSON.parse(next);
      for (const res of clients) res.write(`data: ${next}\n\n`);
    }
  } catch (err) {
    if (dbOk) log(`cannot read votes: ${err.message}`);
    dbOk = false;
  }
  setTimeout(poll, pollMs);
}

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(data);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' });
    return res.end();
  }
  switch (url.pathname) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(renderPage(latest));
    case '/api/results':
      try {
        return sendJson(res, 200, results(await fetchCounts()));
      } catch (err) {
        return sendJson(res, 503, { error: `database unavailable: ${err.message}` });
      }
    case '/healthz':
      try {
        await pool.query('SELECT 1');
        return sendJson(res, 200, { status: 'ok' });
      } catch (err) {
        return sendJson(res, 503, { status: 'unavailable', db: err.message });
      }
    case '/events':
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      res.write(`retry: 2000\ndata: ${JSON.stringify(latest)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return undefined;
    default:
      return sendJson(res, 404, { error: 'not found' });
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    log(`request failed: ${err.stack}`);
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.end();
  });
});

// Comments keep idle event streams open through proxies.
setInterval(() => {
  for (const res of clients) res.write(': keep-alive\n\n');
}, 15000).unref();

function shutdown(signal) {
  log(`${signal}, stopping`);
  for (const res of clients) res.end();
  server.close(() => pool.end().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(port, () => {
  log(`listening on :${port}, options a=${options.a} b=${options.b}`);
  poll();
});
