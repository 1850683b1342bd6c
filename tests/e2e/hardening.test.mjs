// Who gets in, and what bad input and upstream faults get: each against the real binary.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sseEvents, sleep, OAUTH_TOKEN, parseSse,
  assertEndsWithError, rawExchange, splitResponses, makePki, tmpdir, PROXY_BIN,
} from './lib/harness.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

function anthropicOnly(mock, extra = {}) {
  return { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: mock.url, token: OAUTH_TOKEN } }, ...extra };
}

describe('who gets in', () => {
  let mock, proxy;
  before(async () => {
    mock = await startMock(anthropicHandler());
    proxy = await startProxy({ config: anthropicOnly(mock, { allowed_hosts: ['proxy.internal'], allowed_origins: ['https://ok.example'] }) });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  test('a foreign Host (DNS rebinding) is refused; loopback names and allowed_hosts are fine', async () => {
    for (const host of ['evil.example', 'evil.example:47000', '10.0.0.1', 'localhost.evil.example']) {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { host } });
      assert.equal(r.status, 403, host);
      assert.equal(r.json.error.type, 'permission_error');
    }
    for (const host of [`localhost:${proxy.port}`, '127.0.0.1', `[::1]:${proxy.port}`, 'proxy.internal']) {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { host } });
      assert.equal(r.status, 200, host);
    }
    const h = await request(`${proxy.url}/health`, { headers: { host: 'evil.example' } });
    assert.equal(h.status, 403, '/health tells a rebinding page nothing');
  });

  test('two Host headers get 400 (RFC 9112 3.2), whichever comes last, also pipelined; one Host is fine', async () => {
    const before = mock.requests.length;
    const b = JSON.stringify(body());
    const post = (hosts) => `POST /v1/messages HTTP/1.1\r\n${hosts.map((h) => `${h}\r\n`).join('')}` +
      `Content-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
    for (const hosts of [['Host: evil.example', 'Host: localhost'], ['Host: localhost', 'host: evil.example'],
      ['Host: localhost', 'HOST: localhost']]) {
      const [r] = splitResponses((await rawExchange(proxy.port, post(hosts))).text);
      assert.equal(r.status, 400, hosts.join(' + '));
      assert.equal(JSON.parse(r.body).error.type, 'invalid_request_error');
      assert.match(JSON.parse(r.body).error.message, /one Host header/);
    }
    // the check reads this request's head, not the one before it on the connection
    const get = (hosts) => `GET /health HTTP/1.1\r\n${hosts.map((h) => `${h}\r\n`).join('')}\r\n`;
    const rs = splitResponses((await rawExchange(proxy.port, get(['Host: localhost']) + get(['Host: localhost',
      'Host: localhost']) + get(['Host: localhost']))).text);
    assert.deepEqual(rs.map((r) => r.status), [200, 400, 200]);
    const o = splitResponses((await rawExchange(proxy.port, post(['Host: localhost', 'Host: localhost'])
      .replace('/v1/messages', '/v1/chat/completions'))).text)[0];
    assert.equal(o.status, 400);
    assert.equal(JSON.parse(o.body).error.type, 'invalid_request_error', 'OpenAI error shape on an OpenAI path');
    assert.equal(JSON.parse(o.body).type, undefined);
    assert.equal(mock.requests.length, before, 'nothing went upstream');
  });

  test('browser Origins are refused unless allowed', async () => {
    const before = mock.requests.length;
    let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(mock.requests.length, before, 'nothing went upstream');
    r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { origin: 'https://ok.example' } });
    assert.equal(r.status, 200);
  });

  test('a POST that is not JSON is refused with 415 (cross-site forms cannot get through)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: JSON.stringify(body()), headers: { 'content-type': type } });
      assert.equal(r.status, 415, type);
      assert.equal(r.json.type, 'error');
    }
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(r.status, 200);
    const o = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } });
    assert.equal(o.status, 415);
    assert.ok(o.json.error.message, 'OpenAI clients get the OpenAI error shape');
  });

  test('a POST body with no Content-Type at all is refused with 415 too; a POST with no body needs none', async () => {
    const before = mock.requests.length;
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'content-type': null } });
    assert.equal(r.status, 415);
    assert.equal(r.json.error.type, 'invalid_request_error');
    const o = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: { model: 'm', messages: [] }, headers: { 'content-type': null } });
    assert.equal(o.status, 415);
    assert.equal(o.json.type, undefined, 'OpenAI shape');
    assert.equal(o.json.error.type, 'invalid_request_error');
    assert.equal(mock.requests.length, before, 'nothing went upstream');
    // the Anthropic SDK sends no Content-Type for body-less POSTs such as a batch cancel
    const c = await request(`${proxy.url}/v1/messages/batches/msgbatch_01/cancel`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' } });
    assert.equal(c.status, 200);
    assert.equal(mock.requests.at(-1).url, '/v1/messages/batches/msgbatch_01/cancel');
  });
});

describe('client keys', () => {
  test('a key is required, compared exactly, and never goes upstream', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock, { client_keys: ['ck-local-0123456789', 'ck-second-key'] }) });
    try {
      for (const headers of [{}, { 'x-api-key': 'ck-local-012345678' }, { 'x-api-key': 'ck-local-0123456789x' },
        { authorization: 'Bearer nope' }, { authorization: `Bearer ${OAUTH_TOKEN}` }]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.json.error.type, 'authentication_error');
      }
      assert.equal(mock.requests.length, 0);
      for (const headers of [{ 'x-api-key': 'ck-local-0123456789' }, { authorization: 'Bearer ck-second-key' }]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers });
        assert.equal(r.status, 200);
        const up = mock.requests.at(-1).headers;
        assert.equal(up.authorization, `Bearer ${OAUTH_TOKEN}`, "the proxy's own token goes upstream");
        assert.equal(up['x-api-key'], undefined);
      }
      await stopProxy(proxy, assert);
      assert.ok(!proxy.output.includes('ck-local-0123456789'), 'client keys never reach the log');
      assert.equal(proxy.output.match(/ POST \/v1\/messages model=- provider=- status=401 /g)?.length, 5, 'each refusal is logged');
    } finally { await mock.close(); }
  });
});

describe('slow and oversized clients', () => {
  let mock, proxy;
  before(async () => {
    mock = await startMock(anthropicHandler());
    proxy = await startProxy({ config: anthropicOnly(mock, { header_timeout: 0.5, max_body: 1024 * 1024 }) });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  function trickle(text) {
    return new Promise((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => s.write(text));
      const t0 = Date.now();
      s.on('data', () => {});
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => {});
    });
  }

  test('headers or a body trickled in are cut off after header_timeout; others are unaffected', async () => {
    const headers = trickle('POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n');
    const bodyTrickle = trickle('POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"model":');
    const meanwhile = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
    assert.equal(meanwhile.status, 200, 'other clients are served meanwhile');
    const [a, b] = await Promise.all([headers, bodyTrickle]);
    assert.ok(a >= 400 && a < 3000, `headers: closed after ${a} ms`);
    assert.ok(b >= 400 && b < 3000, `body: closed after ${b} ms`);
  });

  test('too many or too large headers are refused; an oversized body gets 413', async () => {
    const many = {};
    for (let i = 0; i < 150; i++) many[`x-h${i}`] = 'v';
    const r1 = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: many }).catch((e) => ({ status: 'closed', e }));
    assert.ok(r1.status === 'closed' || (r1.status >= 400 && r1.status < 500), `status ${r1.status}`);
    const r2 = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'x-big': 'x'.repeat(600 * 1024) } })
      .catch((e) => ({ status: 'closed', e }));
    assert.ok(r2.status === 'closed' || (r2.status >= 400 && r2.status < 500), `status ${r2.status}`);
    const r3 = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ pad: 'x'.repeat(2 * 1024 * 1024) }) });
    assert.equal(r3.status, 413);
    assert.equal(r3.json.error.type, 'request_too_large');
    const r4 = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: { model: 'm', pad: 'x'.repeat(2 * 1024 * 1024) } });
    assert.equal(r4.status, 413);
    assert.equal(r4.json.error.type, 'request_too_large', 'OpenAI clients get the OpenAI shape');
    assert.equal(r4.json.type, undefined);
  });
});

describe("H2O's own errors", () => {
  let proxy;
  before(async () => { proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:1' } } } }); });
  after(async () => { await stopProxy(proxy, assert); });
  const post = (p, headers, bodyText = '{}') => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${headers}\r\n${bodyText}`;

  test('malformed framing after a parsed request line gets JSON in the caller\'s API shape, with H2O\'s reason', async () => {
    for (const [p, headers, status, message] of [
      ['/v1/messages', 'Transfer-Encoding: gzip\r\n', 400, 'unknown transfer-encoding'],
      ['/v1/messages', 'Content-Length: 12abc\r\n', 400, 'broken content-length header'],
      ['/v1/messages', 'Transfer-Encoding: chunked\r\n', 400, 'broken chunked-encoding'],
      ['/v1/messages', 'Expect: 200-ok\r\nContent-Length: 2\r\n', 417, 'unknown expectation'],
      ['/v1/chat/completions', 'Transfer-Encoding: gzip\r\n', 400, 'unknown transfer-encoding'],
    ]) {
      const bodyText = headers.includes('chunked') ? 'zz\r\n{}\r\n0\r\n\r\n' : '{}';
      const { text } = await rawExchange(proxy.port, post(p, headers, bodyText));
      const [r] = splitResponses(text);
      assert.equal(r.status, status, text);
      assert.match(r.headers['content-type'], /^application\/json/);
      const json = JSON.parse(r.body);
      assert.equal(json.error.message, message);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.type, p.includes('chat') ? undefined : 'error');
    }
  });

  test('what H2O refuses before a request exists stays its plain 400 and a closed connection (documented)', async () => {
    const many = Array.from({ length: 120 }, (_, i) => `x-h${i}: v\r\n`).join('');
    for (const raw of ['NOT HTTP AT ALL\r\n\r\n', `GET /health HTTP/1.1\r\nHost: localhost\r\n${many}\r\n`]) {
      const { text, closed } = await rawExchange(proxy.port, raw);
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(text, /Content-Type: text\/plain/i, 'H2O 2.2.5 writes this one itself: see SECURITY.md');
      assert.ok(closed);
    }
    const h = await request(`${proxy.url}/health`);
    assert.equal(h.status, 200, 'the proxy serves on');
  });
});

describe('upstream faults', () => {
  async function rawServer(onConn) {
    const srv = net.createServer(onConn);
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    return srv;
  }

  test('garbage instead of HTTP, and a DNS failure: a well-formed 502 and a log line naming the provider', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\nnot http at all\r\n\r\n')));
    let proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: `http://127.0.0.1:${srv.address().port}` } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.equal(r.json.type, 'error');
      assert.match(proxy.output, /anthropic: failed to parse the response/);
    } finally { await stopProxy(proxy, assert); srv.close(); }
    proxy = await startProxy({ config: { request_timeout: 3, order: ['anthropic'], providers: { anthropic: {
      type: 'anthropic', base_url: 'http://no-such-host.invalid' } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.match(r.json.error.message, /anthropic unreachable/);
      // the resolver's own error, or (no DNS server answering, as on an offline CI machine) its timeout
      assert.match(proxy.output, /anthropic: .*(not known|resolve|resolution|failure)/i);
    } finally { await stopProxy(proxy, assert); }
  });

  // An upstream that sends the first event of a chunked stream, then lets `cut` end the connection
  // 50 ms later. Returns the events the client got and the proxy's log.
  async function cutStream(cut) {
    const srv = await rawServer((s) => s.once('data', () => {
      const ev = sseEvents('a b')[0];
      s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${ev.length.toString(16)}\r\n${ev}\r\n`);
      setTimeout(() => cut(s), 50);
    }));
    const proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: `http://127.0.0.1:${srv.address().port}` } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      await sleep(100);
      return { evs: parseSse(r.text), log: proxy.output };
    } finally { await stopProxy(proxy, assert); srv.close(); }
  }

  test('a connection reset mid-stream ends the stream with an SSE error event and a log line naming the provider', async () => {
    const { evs, log } = await cutStream((s) => s.resetAndDestroy()); // TCP RST, not a clean close
    assert.equal(evs[0].event, 'message_start');
    assertEndsWithError(evs);
    assert.match(log, /warn +anthropic: .*(reset|closed|ended before message_stop)/i);
  });

  test('an upstream that never answers and a TLS failure: the log line names the provider and the reason', async () => {
    const mock = await startMock(() => {}); // never answers
    let proxy = await startProxy({ config: { request_timeout: 0.5, order: ['anthropic'], providers: { anthropic: {
      type: 'anthropic', base_url: mock.url } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 504);
      assert.match(proxy.output, /warn +anthropic: .*time/i);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
    const pki = makePki();
    const tlsMock = await startMock(anthropicHandler(), { tls: pki.other });
    proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: tlsMock.url, ca_file: pki.caFile } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.match(proxy.output, /warn +anthropic: .*(hostname mismatch|certificate)/i);
    } finally { await stopProxy(proxy, assert); await tlsMock.close(); }
    const notTls = await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))); // plain HTTP on an https URL
    proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: `https://localhost:${notTls.address().port}` } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.match(proxy.output, /warn +anthropic: .*(ssl|tls) handshake/i);
    } finally { await stopProxy(proxy, assert); notTls.close(); }
  });

  test('a truncated chunked stream ends with an SSE error event, not silently', async () => {
    const { evs } = await cutStream((s) => s.end('1000\r\nevent: content_block')); // a chunk cut short
    assert.equal(evs[0].event, 'message_start');
    assertEndsWithError(evs);
  });
});

describe('load', () => {
  const clients = Number(process.env.CP_LOAD_CLIENTS || 1000);
  // AddressSanitizer's quarantine and shadow memory multiply RSS; the bound is for the real build
  const rssBound = (process.env.ASAN_OPTIONS ? 256 : 64) * 1024;
  test(`${clients} concurrent streaming clients all complete; RSS stays bounded`, async () => {
    const mock = await startMock(anthropicHandler({ delayMs: 20 }));
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), log_level: 'warn' } });
    try {
      const before = rss(proxy.child.pid);
      const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
      const one = () => new Promise((resolve, reject) => {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body({ stream: true })));
      });
      let peak = before;
      const sampler = setInterval(() => { peak = Math.max(peak, rss(proxy.child.pid)); }, 20);
      const texts = await Promise.all(Array.from({ length: clients }, one));
      clearInterval(sampler);
      assert.ok(texts.every((t) => t.includes('event: message_stop')), 'every stream completed');
      console.log(`# ${clients} concurrent streams: proxy RSS ${before} KiB idle, ${peak} KiB peak`);
      assert.ok(peak - before < rssBound, `RSS grew by ${peak - before} KiB`);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('a client that stops reading does not make the proxy buffer the whole stream', async () => {
    let written = 0, done = false;
    const chunk = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0,
      delta: { type: 'text_delta', text: 'x'.repeat(16000) } })}\n\n`;
    const mock = await startMock(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvents()[0]);
      const deadline = Date.now() + 3000;
      while (!done && written < 200 * 1024 * 1024 && Date.now() < deadline) {
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).setMaxListeners?.(0) ?? setTimeout(r, 50));
        written += chunk.length;
      }
      res.end();
    });
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), request_timeout: 30, log_level: 'warn' } });
    try {
      const before = rss(proxy.child.pid);
      const sock = net.connect(proxy.port, '127.0.0.1');
      sock.pause(); // never read
      const b = JSON.stringify(body({ stream: true }));
      sock.write(`POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`);
      await sleep(3500);
      const grown = rss(proxy.child.pid) - before;
      done = true;
      sock.destroy();
      console.log(`# stalled client: upstream wrote ${(written / 1048576).toFixed(1)} MiB, proxy RSS grew ${grown} KiB`);
      assert.ok(written < 64 * 1024 * 1024, `the upstream was slowed down (wrote ${written} bytes)`);
      assert.ok(grown < 32 * 1024, `proxy memory bounded (grew ${grown} KiB)`);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('warnings', () => {
  test('a config others can read that holds client keys inline is warned about, never printing a key', () => {
    const dir = tmpdir('cp-keys-');
    const check = (file, mode) => {
      fs.chmodSync(file, mode);
      const r = spawnSync(PROXY_BIN, ['--check', '--config', file], { env: { PATH: process.env.PATH, HOME: dir } });
      assert.equal(r.status, 0, r.stderr.toString());
      return r.stdout.toString() + r.stderr.toString();
    };
    const inline = path.join(dir, 'inline.lua');
    const providers = 'order = { "anthropic" }, providers = { anthropic = { type = "anthropic" } }';
    fs.writeFileSync(inline, `return { ${providers}, client_keys = { "ck-inline-SECRETKEY-0123" } }\n`);
    let out = check(inline, 0o644);
    assert.match(out, /inline\.lua contains client keys but other users can read it/);
    assert.ok(!out.includes('SECRETKEY'), out);
    assert.doesNotMatch(check(inline, 0o600), /other users can read it/);
    // keys from a private client_keys_file are not in the config's text: nothing to warn about
    const keysFile = path.join(dir, 'keys');
    fs.writeFileSync(keysFile, 'ck-file-SECRETKEY-0456\n', { mode: 0o600 });
    const viaFile = path.join(dir, 'via-file.lua');
    fs.writeFileSync(viaFile, `return { ${providers}, client_keys_file = ${JSON.stringify(keysFile)} }\n`);
    out = check(viaFile, 0o644);
    assert.doesNotMatch(out, /other users can read it/);
    assert.match(out, /client keys: 1/);
  });

  test('listening beyond loopback without client_keys logs a warning; with client keys it does not', async () => {
    let proxy = await startProxy({ config: { listen: '0.0.0.0', order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:1' } } } });
    await stopProxy(proxy, assert);
    assert.match(proxy.output, /warn +listening on 0\.0\.0\.0 without client_keys/);
    proxy = await startProxy({ config: { listen: '0.0.0.0', client_keys: ['ck-listen-0123456789'], order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:1' } } } });
    await stopProxy(proxy, assert);
    assert.doesNotMatch(proxy.output, /without client_keys/);
    proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:1' } } } });
    await stopProxy(proxy, assert);
    assert.doesNotMatch(proxy.output, /without client_keys/, 'loopback: no warning');
  });
});

describe('logs', () => {
  test('JSON-lines logs to a file: one request line each, a warning for a readable config with a token, no secret', async () => {
    const mock = await startMock(anthropicHandler());
    const dir = (await import('./lib/harness.mjs')).tmpdir('cp-log-');
    const logFile = `${dir}/proxy.log`;
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), log_format: 'json', log_file: logFile, log_level: 'info' } });
    try {
      fs.chmodSync(proxy.configPath, 0o644);
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
      proxy.child.kill('SIGHUP'); // the reload re-reads the config, which holds the token inline
      await sleep(300);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.every((l) => l.time && l.level && typeof l.msg === 'string'));
    assert.ok(lines.some((l) => /^POST \/v1\/messages model=claude-sonnet-5 provider=anthropic status=200/.test(l.msg)));
    assert.ok(lines.some((l) => l.level === 'warn' && /contains a token but other users can read it/.test(l.msg)));
    assert.ok(!fs.readFileSync(logFile, 'utf8').includes('TESTTOKEN'));
  });
});
