// What a misbehaving upstream gets, from raw-socket mocks: ambiguous framing, an unsolicited 101,
// a head trickled in or delayed by endless 100 Continue, a 204 with a body, a stream whose text
// names the end event, an unparseable head, an error body that never ends; and a slow reader that
// must not pass for a silent upstream.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sseEvents, sleep, OAUTH_TOKEN, parseSse,
  assertEndsWithError,
} from './lib/harness.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });
const anthropic = (url, extra = {}) => ({ type: 'anthropic', base_url: url, token: OAUTH_TOKEN, ...extra });
const only = (url, extra = {}) => ({ order: ['anthropic'], providers: { anthropic: anthropic(url) }, ...extra });

// A raw upstream: onRequest(socket, n) runs for each request head it receives (n counts from 1
// over all connections); connections and requests are counted.
async function rawUpstream(onRequest) {
  const stats = { connections: 0, requests: 0 };
  const sockets = new Set();
  const srv = net.createServer((s) => {
    stats.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // requests are small and carry a content-length: one per complete head + body
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        onRequest(s, ++stats.requests);
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    stats,
    close() { for (const s of sockets) s.destroy(); return new Promise((r) => srv.close(r)); },
  };
}

const okJson = (text) => {
  const b = JSON.stringify({ type: 'message', content: [{ type: 'text', text }] });
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${b.length}\r\n\r\n${b}`;
};

// The client's view of one request: its status and JSON, or why it got none.
const outcome = (url, opts) => request(url, { timeout: 8000, ...opts }).catch((e) => ({ status: `no answer (${e.message})` }));

describe('response framing', () => {
  const ambiguous = {
    'two differing Content-Length': 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n' +
      'content-length: 40\r\n\r\n{}HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    'Content-Length with chunked': 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 40\r\n' +
      'transfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    'chunked with Content-Length': 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n' +
      'content-length: 40\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  };
  for (const [name, answer] of Object.entries(ambiguous)) {
    test(`${name}: an invalid response, 502 in the caller's format (or the next provider under "5xx")`, async () => {
      const up = await rawUpstream((s) => s.write(answer));
      const backup = await startMock(anthropicHandler({ text: 'from backup' }));
      let proxy = await startProxy({ config: only(up.url) });
      try {
        const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 502, r.text);
        assert.equal(r.json.type, 'error');
        assert.match(r.json.error.message, /anthropic sent an invalid response: .*(content-length|transfer-encoding)/i);
        const o = await outcome(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
        assert.equal(o.status, 502);
        assert.equal(o.json.type, undefined, 'OpenAI clients get the OpenAI shape');
        assert.ok(o.json.error.message);
      } finally { await stopProxy(proxy, assert); }
      proxy = await startProxy({ config: { order: ['anthropic', 'backup'], providers: {
        anthropic: anthropic(up.url, { fallback_on: [429, 'connect', '5xx'] }), backup: anthropic(backup.url) } } });
      try {
        const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.content[0].text, 'from backup');
      } finally { await stopProxy(proxy, assert); await up.close(); await backup.close(); }
    });
  }

  test('the same Content-Length twice is one length; the answer is relayed', async () => {
    const up = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n' +
      'Content-Length: 11\r\n\r\n{"ok":true}'));
    const proxy = await startProxy({ config: only(up.url) });
    try {
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      assert.equal(r.text, '{"ok":true}');
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });
});

describe('an unsolicited 101', () => {
  test('is an invalid response (the proxy never asks to upgrade): 502, not a hanging client', async () => {
    const up = await rawUpstream((s) => s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n\x81\x05hello'));
    const proxy = await startProxy({ config: only(up.url) });
    try {
      const t0 = Date.now();
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502, r.text);
      assert.match(r.json.error.message, /101/);
      assert.ok(Date.now() - t0 < 2000, 'at once');
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });
});

describe('an unparseable response head', () => {
  test('is an invalid response, not a connection failure: a POST the upstream had is not replayed unless "5xx" says so', async () => {
    const up = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nno colon here\r\n\r\n{}'));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    let proxy = await startProxy({ config: { order: ['anthropic', 'backup'], providers: {
      anthropic: anthropic(up.url), backup: anthropic(backup.url) } } }); // fallback_on defaults: 429, 529, "connect"
    try {
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502, r.text);
      assert.match(r.json.error.message, /anthropic sent an invalid response: failed to parse the response/);
      assert.equal(backup.requests.length, 0, 'not replayed');
      assert.match(proxy.output, /anthropic: failed to parse the response/);
    } finally { await stopProxy(proxy, assert); }
    proxy = await startProxy({ config: { order: ['anthropic', 'backup'], providers: {
      anthropic: anthropic(up.url, { fallback_on: ['5xx'] }), backup: anthropic(backup.url) } } });
    try {
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.content[0].text, 'from backup');
    } finally { await stopProxy(proxy, assert); await up.close(); await backup.close(); }
  });

  test('a valid head with 150 headers is relayed; one past the limit is an invalid response', async () => {
    const many = (n) => Array.from({ length: n }, (_, i) => `x-h${i}: v${i}\r\n`).join('');
    const up = await rawUpstream((s, n) => s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${many(n === 1 ? 150 : 1000)}` +
      'content-length: 11\r\n\r\n{"ok":true}'));
    const proxy = await startProxy({ config: only(up.url) });
    try {
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-h149'], 'v149');
      const r2 = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r2.status, 502, r2.text);
      assert.match(r2.json.error.message, /too many headers/);
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });
});

