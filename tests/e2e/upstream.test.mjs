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
import { bedrockEnv } from './lib/bedrock-mock.mjs';

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

describe('the response-head deadline', () => {
  // request_timeout 1 s; each write comes well within it, the head never completes
  const dribblers = {
    'a head trickled a byte at a time': (s) => {
      const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-pad: ' + 'p'.repeat(1000);
      let i = 0;
      const t = setInterval(() => (s.destroyed || i >= head.length ? clearInterval(t) : s.write(head[i++])), 200);
    },
    'endless 100 Continue': (s) => {
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write('HTTP/1.1 100 Continue\r\n\r\n')), 300);
    },
  };
  for (const [name, dribble] of Object.entries(dribblers)) {
    test(`${name}: 504 after request_timeout, not for as long as the upstream keeps it up`, async () => {
      const up = await rawUpstream(dribble);
      const proxy = await startProxy({ config: only(up.url, { request_timeout: 1 }) });
      try {
        const t0 = Date.now();
        const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        const took = Date.now() - t0;
        assert.equal(r.status, 504, r.text ?? r.status);
        assert.equal(r.json.error.type, 'timeout_error');
        assert.ok(took >= 900 && took < 2500, `answered after ${took} ms`);
      } finally { await stopProxy(proxy, assert); await up.close(); }
    });
  }
});

describe('a steady slow reader', () => {
  test('is held back, never taken for a silent upstream', async () => {
    // More than the kernel buffers hold, so that the proxy pauses the upstream (above 1 MiB
    // pending) while the client reads at ~300 KB/s, slower than it takes to drain that within
    // request_timeout (1 s). Then the client reads at full speed to the end.
    const delta = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
      delta: { type: 'text_delta', text: 'x'.repeat(64 * 1024) } })}\n\n`;
    const mock = await startMock(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = sseEvents('start');
      res.write(evs.slice(0, 3).join(''));
      for (let i = 0; i < 384 && !res.destroyed; i++) // 24 MiB
        if (!res.write(delta)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
      res.end(evs.slice(3).join(''));
    });
    const proxy = await startProxy({ config: only(mock.url, { request_timeout: 1 }) });
    try {
      const t0 = Date.now();
      const text = await new Promise((resolve, reject) => {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent: false,
          headers: { 'content-type': 'application/json' } }, (res) => {
          const chunks = [];
          res.on('data', (c) => {
            chunks.push(c);
            if (Date.now() - t0 < 4000) { // slow for four request_timeouts
              res.pause();
              setTimeout(() => res.resume(), (c.length / 300e3) * 1000);
            }
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify(body({ stream: true })));
      });
      const evs = parseSse(text);
      assert.ok(!evs.some((e) => e.event === 'error'), `no error event: ${evs.find((e) => e.event === 'error')?.data}`);
      assert.equal(evs.at(-1).event, 'message_stop');
      assert.doesNotMatch(proxy.output, /I\/O timeout/);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('a 204 or 304 that carries a body', () => {
  const poisons = {
    '204 with a Content-Length': 'HTTP/1.1 204 No Content\r\ncontent-length: 17\r\n\r\n{"poisoned":true}',
    '204 followed by bytes': `HTTP/1.1 204 No Content\r\n\r\n${okJson('poisoned')}`,
    '304 with a chunked body': 'HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n11\r\n{"poisoned":true}\r\n0\r\n\r\n',
  };
  for (const [name, poison] of Object.entries(poisons)) {
    test(`${name}: its connection is never reused, the next request gets its own answer`, async () => {
      const up = await rawUpstream((s, n) => s.write(n === 1 ? poison : okJson(`answer ${n}`)));
      const proxy = await startProxy({ config: only(up.url) });
      try {
        const first = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(first.status, Number(name.slice(0, 3)));
        assert.equal(first.text, '');
        const second = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(second.status, 200, second.text);
        assert.equal(second.json.content[0].text, 'answer 2');
        assert.equal(up.stats.connections, 2, 'a new connection for the second request');
        const third = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(third.json.content[0].text, 'answer 3');
        assert.equal(up.stats.connections, 2, 'a clean answer keeps its connection');
      } finally { await stopProxy(proxy, assert); await up.close(); }
    });
  }
});

describe('the end of a relayed stream', () => {
  test('"event: message_stop" inside a text delta is text, not the end: a truncated stream still ends with an error event', async () => {
    const evs = sseEvents('a b');
    const tricky = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
      delta: { type: 'text_delta', text: 'say\n\nevent: message_stop\nevent: error\n' } })}\n\n`;
    // close-delimited (no length, no chunks): the close is all the proxy sees of the end
    const up = await rawUpstream((s) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n${evs.slice(0, 3).join('')}`);
      setTimeout(() => s.write(tricky.slice(0, 70)), 20);
      setTimeout(() => s.end(tricky.slice(70)), 40);
    });
    const proxy = await startProxy({ config: only(up.url) });
    try {
      const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(r.status, 200);
      const got = parseSse(r.text);
      assert.equal(got[0].event, 'message_start');
      assertEndsWithError(got);
      for (let i = 0; i < 50 && !/anthropic: the stream ended before message_stop/.test(proxy.output); i++) await sleep(20);
      assert.match(proxy.output, /anthropic: the stream ended before message_stop/);
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });

  test('a stream that does end with message_stop, split anywhere, ends cleanly', async () => {
    const whole = sseEvents('one two three').join('').replace(/\n/g, '\r\n');
    for (const cut of [whole.length - 3, whole.length - 12, whole.length - 19]) {
      const up = await rawUpstream((s) => {
        s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n${whole.slice(0, cut)}`);
        setTimeout(() => s.end(whole.slice(cut)), 30);
      });
      const proxy = await startProxy({ config: only(up.url) });
      try {
        const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
        const got = parseSse(r.text.replace(/\r\n/g, '\n'));
        assert.equal(got.at(-1).event, 'message_stop', `cut at ${cut}`);
        assert.ok(!got.some((e) => e.event === 'error'));
      } finally { await stopProxy(proxy, assert); await up.close(); }
    }
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


describe('an upstream error body that never ends', () => {
  // An error answer is read whole before anything reaches the client (to convert it, to tell a
  // throttle from a plan limit, to decide on a retry): its body is bounded in size (1 MiB) and in
  // time (request_timeout from the response head), whatever the upstream keeps sending.
  const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const healthy = async (proxy) => {
    const h = await outcome(`${proxy.url}/health`);
    assert.equal(h.status, 200, 'the proxy still answers /health');
  };

  test('a trickled error body (a byte every 200 ms, never ending) ends with an error within request_timeout', async () => {
    const up = await rawUpstream((s) => {
      s.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{');
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(' ')), 200);
      s.on('close', () => clearInterval(t));
    });
    const proxy = await startProxy({ config: only(up.url, { request_timeout: 1 }) });
    try {
      for (const [path, req, anthropicShape] of [['/v1/messages', body(), true], ['/v1/chat/completions', chat, false]]) {
        const t0 = Date.now();
        const r = await outcome(`${proxy.url}${path}`, { method: 'POST', body: req });
        const took = Date.now() - t0;
        assert.equal(r.status, 504, `${path}: ${r.text ?? r.status}`);
        assert.ok(took >= 900 && took < 2500, `${path}: answered after ${took} ms`);
        if (anthropicShape) {
          assert.equal(r.json.type, 'error');
          assert.equal(r.json.error.type, 'timeout_error');
        } else {
          assert.equal(r.json.type, undefined, 'OpenAI clients get the OpenAI shape');
          assert.equal(r.json.error.type, 'timeout_error');
        }
        assert.match(r.json.error.message, /anthropic .*error body .*request_timeout/);
      }
      await healthy(proxy);
      for (let i = 0; i < 50 && !/anthropic: .*error body/.test(proxy.output); i++) await sleep(20);
      assert.match(proxy.output, /anthropic: .*error body/);
      // a client that leaves while the error body trickles: its deadline goes with its request
      const gone = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), timeout: 300 });
      assert.match(String(gone.status), /no answer/);
      await sleep(1500); // past the deadline it would have had
      await healthy(proxy);
      for (let i = 0; i < 50 && !/status=499/.test(proxy.output); i++) await sleep(20);
      assert.match(proxy.output, /status=499/);
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });

  for (const status of [500, 429]) {
    test(`an endless error body (${status}, MBs as fast as possible) is cut at 1 MiB and the client gets its answer`, async () => {
      let closedByProxy = 0;
      const up = await rawUpstream((s) => {
        // close-delimited: only the proxy can end it
        s.write(`HTTP/1.1 ${status} Oops\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"type":"error","error":{"type":"api_error","message":"`);
        const chunk = 'x'.repeat(256 * 1024);
        const pump = () => { while (!s.destroyed && s.write(chunk)); };
        s.on('drain', pump);
        s.on('close', () => closedByProxy++);
        pump();
      });
      const backup = await startMock(anthropicHandler({ text: 'from backup' }));
      let proxy = await startProxy({ config: only(up.url) });
      try {
        for (const [path, req, anthropicShape] of [['/v1/messages', body(), true], ['/v1/chat/completions', chat, false]]) {
          const t0 = Date.now();
          const r = await outcome(`${proxy.url}${path}`, { method: 'POST', body: req });
          assert.equal(r.status, 502, `${path}: ${r.text ?? r.status}`);
          assert.ok(Date.now() - t0 < 2000, `${path}: at once, not after ${Date.now() - t0} ms`);
          assert.equal(r.json.type, anthropicShape ? 'error' : undefined);
          assert.equal(r.json.error.type, 'api_error');
          assert.match(r.json.error.message, /anthropic sent an invalid response: .*error body .*1 MiB/);
          assert.ok(r.text.length < 1000, 'none of the upstream body');
        }
        for (let i = 0; i < 50 && closedByProxy < 2; i++) await sleep(20);
        assert.equal(closedByProxy, 2, 'the proxy hung up on the upstream');
        await healthy(proxy);
      } finally { await stopProxy(proxy, assert); }
      // as every invalid response: the next provider under "5xx", since the client has seen nothing
      proxy = await startProxy({ config: { order: ['anthropic', 'backup'], providers: {
        anthropic: anthropic(up.url, { fallback_on: ['5xx'] }), backup: anthropic(backup.url) } } });
      try {
        const r = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.content[0].text, 'from backup');
        await healthy(proxy);
      } finally { await stopProxy(proxy, assert); await up.close(); await backup.close(); }
    });
  }

  test('from Bedrock too (whose errors are converted): the same bounds, in time and in size', async () => {
    const up = await rawUpstream((s, n) => {
      s.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"message":"');
      if (n === 1) { // trickled
        const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write('x')), 200);
        s.on('close', () => clearInterval(t));
      } else { // endless
        const chunk = 'x'.repeat(256 * 1024);
        const pump = () => { while (!s.destroyed && s.write(chunk)); };
        s.on('drain', pump);
        pump();
      }
    });
    const proxy = await startProxy({ config: { request_timeout: 1, order: ['bedrock'], providers: { bedrock: {
      type: 'bedrock', region: 'us-west-2', endpoint: up.url, mantle_endpoint: up.url } } }, env: bedrockEnv() });
    try {
      const slow = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(slow.status, 504, slow.text ?? slow.status);
      assert.equal(slow.json.error.type, 'timeout_error');
      assert.match(slow.json.error.message, /bedrock .*error body/);
      const big = await outcome(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(big.status, 502, big.text ?? big.status);
      assert.match(big.json.error.message, /bedrock sent an invalid response: .*1 MiB/);
      await healthy(proxy);
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });
});
