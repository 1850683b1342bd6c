// HTTP/2 on the plaintext listener (prior knowledge or an h2c upgrade): what a client may put in a
// request line, and what a client that stops reading may hold. Against the real binary.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import {
  startMock, startProxy, stopProxy, anthropicHandler, OAUTH_TOKEN, rawExchange, splitResponses, sleep,
} from './lib/harness.mjs';
import { h2connect } from './lib/h2raw.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });

function anthropicOnly(mock, extra = {}) {
  return { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: mock.url, token: OAUTH_TOKEN } },
    http2: true, ...extra };
}

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

async function waitFor(cond, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (cond()) return true;
  return cond();
}

const messages = JSON.stringify(body({ stream: true }));

// An upstream that streams for ever, as fast as it is taken; counts the requests still open.
async function endlessMock() {
  const big = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
    delta: { type: 'text_delta', text: 'z'.repeat(32 * 1024) } })}\n\n`;
  const state = { open: 0 };
  state.mock = await startMock(async (req, res) => {
    if (!req.headers['x-test-endless']) return anthropicHandler()(req, res, Buffer.from(messages));
    state.open++;
    let closed = false;
    const gone = new Promise((r) => res.once('close', () => { closed = true; state.open--; r(); }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    while (!closed) if (!res.write(big)) await Promise.race([new Promise((r) => res.once('drain', r)), gone]);
  });
  return state;
}

const head = (method, path, extra = []) => [[':method', method], [':scheme', 'http'], [':authority', 'localhost'],
  [':path', path], ['content-type', 'application/json'], ...extra];

describe('the HTTP/2 request line', () => {
  test('a method that is not a token or a path that is not origin-form visible ASCII gets 400, and nothing goes upstream', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const c = await h2connect(proxy.port);
      const ok = await c.request(head('POST', '/v1/messages'), JSON.stringify(body()));
      assert.equal(ok.status, 200, ok.body);
      assert.equal(mock.requests.length, 1);
      const anthropic = [
        ['GET /v1/evil', '/v1/models'], // would make "GET /v1/evil /v1/models HTTP/1.1"
        ['POST', '/v1/evil /v1/messages'],
        ['POST', '/v1/messages\tx'],
        ['POST', '/v1/m\xe9ssages'],
        ['PO\xc3\x89ST', '/v1/messages'],
        ['POST', 'v1/messages'],
        ['POST', '*'],
        ['', '/v1/messages'],
      ];
      for (const [method, path] of anthropic) {
        const r = await c.request(head(method, path), JSON.stringify(body()));
        assert.equal(r.status, 400, JSON.stringify([method, path]));
        const e = JSON.parse(r.body);
        assert.equal(e.type, 'error', r.body);
        assert.equal(e.error.type, 'invalid_request_error');
      }
      // OpenAI endpoints answer in OpenAI's shape
      for (const [method, path] of [['POST', '/v1/chat/completions?x=a b'], ['POST\t', '/v1/chat/completions']]) {
        const r = await c.request(head(method, path), JSON.stringify({ model: 'claude-sonnet-5', messages: [] }));
        assert.equal(r.status, 400, JSON.stringify([method, path]));
        const e = JSON.parse(r.body);
        assert.equal(e.type, undefined, r.body);
        assert.equal(e.error.type, 'invalid_request_error');
        assert.match(e.error.message, /request (method|target)/);
      }
      c.close();
      // HTTP/1's parser lets bytes >= 0x80 through in the target: the same rule applies
      const [h1] = splitResponses((await rawExchange(proxy.port, 'GET /v1/m\u00e9ssages HTTP/1.1\r\nHost: localhost\r\n\r\n')).text);
      assert.equal(h1.status, 400);
      assert.equal(JSON.parse(h1.body).error.type, 'invalid_request_error');
      assert.equal(mock.requests.length, 1, `nothing else went upstream: ${mock.requests.slice(1).map((r) => `${r.method} ${r.url}`)}`);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('HTTP/2 is off unless asked for', () => {
  test('by default the prior-knowledge preface gets 400 and an h2c upgrade stays HTTP/1.1; http2 = true accepts both', async () => {
    const mock = await startMock(anthropicHandler());
    const off = await startProxy({ config: anthropicOnly(mock, { http2: undefined }) });
    const on = await startProxy({ config: anthropicOnly(mock) });
    const upgrade = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n';
    try {
      const pri = await rawExchange(off.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00');
      assert.match(pri.text, /^HTTP\/1\.1 400 /);
      assert.ok(pri.closed);
      const [h1] = splitResponses((await rawExchange(off.port, upgrade)).text);
      assert.equal(h1.status, 200, 'answered over HTTP/1.1');

      assert.match((await rawExchange(on.port, upgrade)).text, /^HTTP\/1\.1 101 /);
      const c = await h2connect(on.port);
      assert.equal((await c.request(head('GET', '/health'))).status, 200);
      c.close();
    } finally { await stopProxy(off, assert); await stopProxy(on, assert); await mock.close(); }
  });
});

describe('an HTTP/2 client that stops reading', () => {

  test('holds a bounded amount, and each stalled stream is reset after stalled_client_timeout; the connection lives on', { timeout: 30000 }, async () => {
    const up = await endlessMock();
    const proxy = await startProxy({ config: anthropicOnly(up.mock, { request_timeout: 60, stalled_client_timeout: 6,
      log_level: 'warn' }) });
    const session = http2.connect(proxy.url);
    session.on('error', () => {});
    try {
      const before = rss(proxy.child.pid);
      const closed = [];
      for (let i = 0; i < 100; i++) { // as many as H2O admits on one connection
        const s = session.request({ ':method': 'POST', ':path': '/v1/messages', 'content-type': 'application/json',
          'x-test-endless': '1' });
        s.on('response', () => s.pause()); // never read
        s.on('error', () => {});
        s.on('close', () => closed.push(s.rstCode));
        s.end(messages);
      }
      let peak = before;
      const started = Date.now();
      while (Date.now() - started < 3000) { await sleep(100); peak = Math.max(peak, rss(proxy.child.pid)); }
      const early = Date.now() - started < 5000 ? [...closed] : []; // stalled_client_timeout is 6 s
      console.log(`# 100 stalled HTTP/2 streams on one connection: proxy RSS ${before} KiB idle, ${peak} KiB peak, ` +
        `${up.open} upstream requests running`);
      assert.ok(up.open <= 16, `at most 16 requests run at once on one connection (${up.open})`);
      assert.ok(peak - before < 32 * 1024, `RSS grew by ${peak - before} KiB`);
      assert.deepEqual(early, [], 'nothing ended before stalled_client_timeout (RST_STREAM codes)');

      assert.ok(await waitFor(() => closed.length >= 16, 10000), `stalled streams were reset (${closed.length})`);
      assert.ok(closed.every((code) => code === http2.constants.NGHTTP2_CANCEL), `RST_STREAM CANCEL: ${closed}`);
      assert.match(proxy.output, /anthropic: the client read nothing for 6 s; resetting its HTTP\/2 stream/);
      assert.ok(!session.closed && !session.destroyed, 'the connection itself is still open');
      session.destroy();
      assert.ok(await waitFor(() => up.open === 0, 5000), `every upstream request was cancelled (${up.open} open)`);
    } finally { session.destroy(); await stopProxy(proxy, assert); await up.mock.close(); }
  });

  test('a stream that stalls is reset while the others on its connection go on', { timeout: 30000 }, async () => {
    const up = await endlessMock();
    const proxy = await startProxy({ config: anthropicOnly(up.mock, { request_timeout: 60, stalled_client_timeout: 1,
      log_level: 'warn' }) });
    const session = http2.connect(proxy.url);
    session.on('error', () => {});
    try {
      const stalled = session.request({ ':method': 'POST', ':path': '/v1/messages', 'content-type': 'application/json',
        'x-test-endless': '1' });
      stalled.on('response', () => stalled.pause());
      stalled.on('error', () => {});
      const reset = new Promise((r) => stalled.on('close', () => r(stalled.rstCode)));
      stalled.end(messages);
      // meanwhile and after, ordinary requests on the same connection are answered
      for (let i = 0; i < 3; i++) {
        const text = await new Promise((resolve, reject) => {
          const s = session.request({ ':method': 'POST', ':path': '/v1/messages', 'content-type': 'application/json' });
          let t = '';
          s.setEncoding('utf8');
          s.on('data', (d) => { t += d; });
          s.on('end', () => resolve(t));
          s.on('error', reject);
          s.end(messages);
        });
        assert.match(text, /event: message_stop/);
        await sleep(600);
      }
      assert.equal(await reset, http2.constants.NGHTTP2_CANCEL);
      assert.ok(await waitFor(() => up.open === 0, 3000), 'its upstream request was cancelled');
    } finally { session.destroy(); await stopProxy(proxy, assert); await up.mock.close(); }
  });

  test('a connection whose socket takes nothing at all is closed after stalled_client_timeout', { timeout: 30000 }, async () => {
    const up = await endlessMock();
    const proxy = await startProxy({ config: anthropicOnly(up.mock, { request_timeout: 60, stalled_client_timeout: 1,
      log_level: 'warn' }) });
    try {
      // flow-control windows as large as allowed, then never a read: the proxy's writes back up
      const sock = net.connect(proxy.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const frame = (type, flags, id, payload) => {
        const h = Buffer.alloc(9);
        h.writeUIntBE(payload.length, 0, 3); h[3] = type; h[4] = flags; h.writeUInt32BE(id, 5);
        return Buffer.concat([h, payload]);
      };
      const settings = Buffer.alloc(6); settings.writeUInt16BE(4, 0); settings.writeUInt32BE(0x7fffffff, 2);
      const windowUpdate = Buffer.alloc(4); windowUpdate.writeUInt32BE(0x7fffffff - 65535);
      const lit = (n, v) => Buffer.concat([Buffer.from([0, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);
      const block = Buffer.concat([lit(':method', 'POST'), lit(':scheme', 'http'), lit(':authority', 'localhost'),
        lit(':path', '/v1/messages'), lit('content-type', 'application/json'), lit('x-test-endless', '1')]);
      sock.pause();
      let closed = false;
      sock.on('close', () => { closed = true; });
      sock.on('error', () => {});
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, settings),
        frame(8, 0, 0, windowUpdate), frame(1, 4, 1, block), frame(0, 1, 1, Buffer.from(messages))]));
      assert.ok(await waitFor(() => /closing its connection/.test(proxy.output), 6000), proxy.output);
      assert.ok(await waitFor(() => up.open === 0, 3000), 'the upstream request was cancelled');
      sock.resume(); // reading again, the client finds the connection closed
      assert.ok(await waitFor(() => closed, 5000), 'connection closed');
    } finally { await stopProxy(proxy, assert); await up.mock.close(); }
  });
});
