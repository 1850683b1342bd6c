// The relay between one client and its upstream: a client that leaves before the answer, a
// POST never sent twice, a slow reader that is not mistaken for a silent upstream, pings on
// translated streams, endpoints only some providers serve.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sseEvents, sleep, OAUTH_TOKEN, parseSse,
} from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, chunkFrame, answerEvents } from './lib/bedrock-mock.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });
const anthropicOnly = (mock, extra = {}) => ({ order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
  base_url: mock.url, token: OAUTH_TOKEN } }, ...extra });

// Resolves when the mock sees the connection of `record` close.
const upstreamClosed = (record) => new Promise((resolve) => {
  if (record.socket.destroyed) resolve(Date.now());
  else record.socket.once('close', () => resolve(Date.now()));
});

async function waitFor(predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('a client that leaves before the answer', () => {
  for (const stream of [false, true]) {
    test(`cancels the upstream request at once (${stream ? 'streaming' : 'non-streaming'})`, async () => {
      // the upstream takes its time before any header, as a long non-streaming answer does
      const mock = await startMock(() => {});
      const proxy = await startProxy({ config: anthropicOnly(mock, { request_timeout: 30 }) });
      try {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent: false,
          headers: { 'content-type': 'application/json' } });
        req.on('error', () => {});
        req.end(JSON.stringify(body({ stream })));
        assert.ok(await waitFor(() => mock.requests.length === 1), 'the upstream got the request');
        const left = Date.now();
        req.destroy();
        const closedAt = await Promise.race([upstreamClosed(mock.requests[0]), sleep(3000).then(() => null)]);
        assert.ok(closedAt !== null, 'the upstream connection was closed when the client left');
        assert.ok(closedAt - left < 2000, `closed ${closedAt - left} ms after the client left`);
        assert.ok(await waitFor(() => /status=499/.test(proxy.output)), `logged as 499:\n${proxy.output}`);
      } finally { await stopProxy(proxy, assert); await mock.close(); }
    });
  }

  test('a keep-alive client that sends its next request meanwhile is not mistaken for one that left', async () => {
    const mock = await startMock(anthropicHandler({ delayMs: 5 }));
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 5; i++) {
        const r = await new Promise((resolve, reject) => {
          const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent,
            headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({ status: res.statusCode, text }));
          });
          req.on('error', reject);
          req.end(JSON.stringify(body({ stream: i % 2 === 1 })));
        });
        assert.equal(r.status, 200, r.text);
      }
      agent.destroy();
      assert.ok(mock.connections <= 2, `upstream connections reused (${mock.connections})`);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('a client that sends more while it waits', () => {
  test('bytes of its next request leave this request\'s body intact, through a fallback', async () => {
    const primary = await startMock(async (req, res) => {
      await sleep(700); // the client writes meanwhile
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'limited' } }));
    });
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: { order: ['primary', 'backup'], providers: {
      primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN },
      backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN } } } });
    try {
      // a body of an awkward size, so the connection's input buffer is nearly full
      const payload = JSON.stringify(body({ messages: [{ role: 'user', content: 'y'.repeat(61000) }] }));
      const sock = net.connect(proxy.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      let answer = '';
      sock.on('data', (d) => { answer += d; });
      sock.write(`POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
      await sleep(400);
      sock.write(`GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n${'x-pad: '.padEnd(6000, 'p')}\r\n`); // incomplete
      assert.ok(await waitFor(() => /from backup/.test(answer), 5000), `answer: ${answer.slice(0, 300)}`);
      assert.equal(backup.requests[0].body.toString(), payload, 'the backup got the request as the client sent it');
      assert.equal(primary.requests[0].body.toString(), payload);
      sock.destroy();
    } finally { await stopProxy(proxy, assert); await primary.close(); await backup.close(); }
  });
});

describe('a POST is never sent twice', () => {
  test('an upstream that works on a request and then drops the connection gets it once', async () => {
    let posts = 0;
    const srv = net.createServer((s) => {
      s.on('data', (d) => {
        if (!d.toString().startsWith('POST')) return;
        posts++;
        if (posts === 1) { // the first answer keeps the connection for reuse
          const b = JSON.stringify({ type: 'message', content: [{ type: 'text', text: 'one' }] });
          s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${b.length}\r\n\r\n${b}`);
        } else { // the second one is worked on, then the upstream fails
          setTimeout(() => s.resetAndDestroy ? s.resetAndDestroy() : s.destroy(), 600);
        }
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const proxy = await startProxy({ config: anthropicOnly({ url: `http://127.0.0.1:${srv.address().port}` }) });
    try {
      const first = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
        headers: { 'content-type': 'application/json' } });
      assert.equal(first.status, 200);
      const second = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
        headers: { 'content-type': 'application/json' } });
      assert.equal(second.status, 502, second.text);
      assert.equal(second.json.type, 'error');
      await sleep(200);
      assert.equal(posts, 2, 'the failed request reached the upstream once');
    } finally { await stopProxy(proxy, assert); srv.close(); }
  });
});

describe('a request body larger than the socket buffers', () => {
  test('reaches an upstream that reads slowly intact, on a new and on a reused connection', async () => {
    // The proxy writes what the kernel takes at once and leaves the rest to libuv: the rest must
    // follow in order, and a reused connection must carry it as well as a fresh one.
    const { createHash } = await import('node:crypto');
    const digests = [];
    const mock = await startMock(async (req, res, received) => {
      digests.push(createHash('sha256').update(received).digest('hex'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'message', content: [{ type: 'text', text: 'ok' }] }));
    });
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 2; i++) {
        const text = JSON.stringify(body({ messages: [{ role: 'user', content: `${i}`.repeat(12 * 1024 * 1024) }] }));
        const status = await new Promise((resolve, reject) => {
          const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', reject);
          req.end(text);
        });
        assert.equal(status, 200);
        assert.equal(digests[i], createHash('sha256').update(text).digest('hex'), `body ${i} arrived intact`);
      }
      assert.equal(mock.connections, 1, 'the second request reused the upstream connection');
      agent.destroy();
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('a slow reader is not a silent upstream', () => {
  test('a client that stops reading for longer than request_timeout still gets the whole stream', async () => {
    const big = 'x'.repeat(64 * 1024);
    const mock = await startMock((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = sseEvents('start');
      res.write(evs.slice(0, 3).join(''));
      // ~3 MiB of deltas: more than the proxy buffers (1 MiB) and the sockets hold
      for (let i = 0; i < 48; i++) {
        res.write(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
          delta: { type: 'text_delta', text: big } })}\n\n`);
      }
      res.end(evs.slice(3).join(''));
    });
    const proxy = await startProxy({ config: anthropicOnly(mock, { request_timeout: 1 }) });
    try {
      const text = await new Promise((resolve, reject) => {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent: false,
          headers: { 'content-type': 'application/json' } }, (res) => {
          const chunks = [];
          res.once('data', (d) => {
            chunks.push(d);
            res.pause(); // a reader that stalls for 2.5 request_timeouts
            setTimeout(() => res.resume(), 2500);
            res.on('data', (c) => chunks.push(c));
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify(body({ stream: true })));
      });
      const evs = parseSse(text);
      assert.equal(evs.at(-1).event, 'message_stop', `the stream completed (last: ${evs.at(-1).data.slice(0, 200)})`);
      assert.ok(!evs.some((e) => e.event === 'error'), 'no error event');
      assert.doesNotMatch(proxy.output, /I\/O timeout/);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('a client that never reads again', () => {
  test('is cut off after stalled_client_timeout, and its upstream request is cancelled', async () => {
    const big = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
      delta: { type: 'text_delta', text: 'z'.repeat(32 * 1024) } })}\n\n`;
    let upstreamClosed = false;
    const mock = await startMock(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.socket.on('close', () => { upstreamClosed = true; });
      res.write(sseEvents()[0]);
      while (!res.destroyed && !upstreamClosed) { // an endless answer, as fast as it is taken
        if (!res.write(big)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
      }
    });
    const proxy = await startProxy({ config: anthropicOnly(mock, { request_timeout: 30, stalled_client_timeout: 1 }) });
    try {
      let res;
      const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent: false,
        headers: { 'content-type': 'application/json' } }, (r) => { res = r; r.once('data', () => r.pause()); });
      req.on('error', () => {});
      req.end(JSON.stringify(body({ stream: true })));
      assert.ok(await waitFor(() => /read nothing for 1 s/.test(proxy.output), 6000), proxy.output);
      // reading again, the client finds its connection closed (a stream without message_stop)
      const ended = new Promise((resolve) => { res.socket.once('close', resolve); });
      res.resume();
      assert.ok(await Promise.race([ended.then(() => true), sleep(5000).then(() => false)]), 'connection closed');
      assert.ok(await waitFor(() => upstreamClosed, 3000), 'the upstream request was cancelled');
      assert.match(proxy.output, /anthropic: the client read nothing for 1 s; closing its connection/);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('pings on translated streams', () => {
  test('a Bedrock stream silent for longer than ping_interval gets Anthropic ping events', async () => {
    const mock = await startBedrockMock({ behaviour: (rec) => rec.url.endsWith('-stream') && (async (req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      const evs = answerEvents();
      res.write(Buffer.concat(evs.slice(0, 2).map(chunkFrame)));
      await sleep(1300); // the model thinks
      res.end(Buffer.concat(evs.slice(2).map(chunkFrame)));
    }) });
    const proxy = await startProxy({ config: { ping_interval: 0.4, order: ['bedrock'], providers: { bedrock: {
      type: 'bedrock', region: 'us-west-2', endpoint: mock.url, mantle_endpoint: mock.mantleUrl } } }, env: bedrockEnv() });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true,
        model: 'claude-sonnet-4-5' }), headers: { 'content-type': 'application/json' } });
      const names = parseSse(r.text).map((e) => e.event);
      const pings = names.filter((n) => n === 'ping').length;
      // answerEvents() has one ping of its own; the silence adds at least two more
      assert.ok(pings >= 3, `pings: ${names.join(',')}`);
      assert.equal(names.at(-1), 'message_stop');
      assert.match(r.text, /event: ping\ndata: \{"type": "ping"\}\n\n/);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('a relayed Anthropic stream is passed through untouched (no pings of ours)', async () => {
    const mock = await startMock(anthropicHandler({ delayMs: 150 }));
    const proxy = await startProxy({ config: anthropicOnly(mock, { ping_interval: 0.05 }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }),
        headers: { 'content-type': 'application/json' } });
      assert.equal(r.text, sseEvents().join(''));
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('endpoints only some providers serve', () => {
  test('GET /v1/models while Anthropic is cooling: 429 with retry-after, Bedrock is not asked', async () => {
    const anthropic = await startMock((req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'limited' } }));
    });
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: { order: ['anthropic', 'bedrock'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url, token: OAUTH_TOKEN },
      bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl } } },
    env: bedrockEnv() });
    try {
      const headers = { 'anthropic-version': '2023-06-01' };
      const first = await request(`${proxy.url}/v1/models`, { headers });
      assert.equal(first.status, 429, 'Anthropic\'s own answer: nothing else serves /v1/models');
      const second = await request(`${proxy.url}/v1/models`, { headers });
      assert.equal(second.status, 429, second.text);
      assert.equal(second.json.error.type, 'rate_limit_error');
      assert.ok(Number(second.headers['retry-after']) > 0, 'retry-after');
      assert.equal(anthropic.requests.length, 1, 'not asked while cooling');
      assert.equal(bedrock.requests.length, 0, 'Bedrock never asked for /v1/models');
      // /v1/messages still falls back to Bedrock
      const msg = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-4-5' }),
        headers: { 'content-type': 'application/json' } });
      assert.equal(msg.status, 200, msg.text);
      assert.equal(bedrock.requests.length, 1);
    } finally { await stopProxy(proxy, assert); await anthropic.close(); await bedrock.close(); }
  });

  test('a chain with no provider for the endpoint answers 404 in Anthropic\'s format', async () => {
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: { order: ['bedrock'], providers: { bedrock: { type: 'bedrock',
      region: 'us-west-2', endpoint: bedrock.url } } }, env: bedrockEnv() });
    try {
      const r = await request(`${proxy.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } });
      assert.equal(r.status, 404);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, 'not_found_error');
      assert.equal(bedrock.requests.length, 0);
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });
});

describe('cooldown transitions', () => {
  test('the end of a cooldown is logged once', async () => {
    let limited = true;
    const mock = await startMock((req, res, b) => {
      if (limited) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'limited' } }));
        return;
      }
      return anthropicHandler()(req, res, b);
    });
    const proxy = await startProxy({ config: anthropicOnly(mock, { cooldown_min: 1 }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
        headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 429);
      limited = false;
      await sleep(1200);
      for (let i = 0; i < 3; i++) {
        const ok = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
          headers: { 'content-type': 'application/json' } });
        assert.equal(ok.status, 200, ok.text);
      }
      const lines = proxy.output.split('\n').filter((l) => /anthropic: cooldown over/.test(l));
      assert.equal(lines.length, 1, proxy.output);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('the request log line', () => {
  test('counts the bytes of the proxy\'s own error answers too', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: '{"model": 1',
        headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 400);
      await sleep(100);
      const line = proxy.output.split('\n').find((l) => /POST \/v1\/messages .*status=400/.test(l));
      assert.ok(line, proxy.output);
      assert.match(line, new RegExp(`bytes=${Buffer.byteLength(r.text)}\\b`));
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('a chunked answer cut between two chunks', () => {
  for (const reset of [false, true]) {
    test(`is a truncation, never a complete answer (${reset ? 'reset' : 'close'})`, async () => {
      const srv = net.createServer((s) => s.once('data', () => {
        const part = '{"id":"msg_1","type":"message","content":[{"type":"text","text":"Hel';
        s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n` +
          `${part.length.toString(16)}\r\n${part}\r\n`);
        setTimeout(() => (reset ? s.resetAndDestroy() : s.end()), 50); // no zero-length chunk
      }));
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const proxy = await startProxy({ config: anthropicOnly({ url: `http://127.0.0.1:${srv.address().port}` }) });
      try {
        const outcome = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
          headers: { 'content-type': 'application/json' } }).then((r) => `complete ${r.status}: ${r.text}`, (e) => e.message);
        assert.doesNotMatch(outcome, /^complete/, 'the client must see the answer break off');
        assert.ok(await waitFor(() => /anthropic: the upstream (closed the connection before the end of the body|connection failed mid-body)/.test(proxy.output)),
          proxy.output);
      } finally { await stopProxy(proxy, assert); srv.close(); }
    });
  }
});
