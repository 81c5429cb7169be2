// Shared plumbing of the stream-v2 test clients (gateway_stream_client.js,
// gateway_stream_chain_client.js): argument parsing, the one-JSON-line verdict, HTTP GET
// of JSON, and a connection whose messages are read with a timeout. Needs the `ws`
// package through NODE_PATH.
'use strict';
const WebSocket = require('ws');
const http = require('http');

const [scenario, port, ...args] = process.argv.slice(2);
const URL = `ws://127.0.0.1:${port}/dashboard/stream-v2`;
const CHANNELS = ['tx.main', 'feature.main', 'opportunity.main', 'chain.main', 'market.main'];

// Prints {scenario, ok, ...info} and exits 0 when ok, 1 otherwise.
function done(ok, info) {
  console.log(JSON.stringify(Object.assign({ scenario, ok }, info)));
  process.exit(ok ? 0 : 1);
}
function fail(msg, info) { done(false, Object.assign({ error: msg }, info || {})); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function getJson(path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => { try { resolve(JSON.parse(b)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
}

// Opens a connection and waits for HELLO; resolves with {ws, hello, next(ms), closed(ms)}.
// next gives the next message, null once the socket closed, undefined on timeout. A
// socket error rejects when rejectOnError (else it shows as a close); stamp adds rx_ms
// (arrival time) to every message.
function open(opts, rejectOnError, stamp) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(URL, opts || {});
    const c = { ws, queue: [], waiters: [], close: null };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (stamp) m.rx_ms = Date.now();
      if (c.waiters.length) c.waiters.shift()(m); else c.queue.push(m);
    });
    ws.on('close', (code) => {
      c.close = code;
      while (c.waiters.length) c.waiters.shift()(null);
    });
    ws.on('error', (e) => { if (rejectOnError) reject(e); });
    c.next = (ms) => new Promise((res) => {
      if (c.queue.length) return res(c.queue.shift());
      if (c.close !== null) return res(null);
      const t = setTimeout(() => { c.waiters.splice(c.waiters.indexOf(f), 1); res(undefined); }, ms);
      const f = (m) => { clearTimeout(t); res(m); };
      c.waiters.push(f);
    });
    c.closed = (ms) => new Promise((res) => {
      if (c.close !== null) return res(c.close);
      const t = setTimeout(() => res(undefined), ms);
      ws.on('close', (code) => { clearTimeout(t); res(code); });
    });
    ws.on('open', async () => {
      const hello = await c.next(5000);
      if (!hello || hello.op !== 'HELLO') return reject(new Error('no HELLO: ' + JSON.stringify(hello)));
      c.hello = hello;
      resolve(c);
    });
    ws.on('unexpected-response', (req, res) => reject(new Error('HTTP ' + res.statusCode)));
  });
}

module.exports = { scenario, port, args, URL, CHANNELS, done, fail, sleep, getJson, open };
