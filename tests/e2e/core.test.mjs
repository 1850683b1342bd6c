// Core proxy, end to end: the real binary between clients and a loopback mock Anthropic API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sseEvents, messageJson, makePki, sleep,
  OAUTH_TOKEN, API_KEY, TEST_DATA, claudeCodeHeaders, parseSse, freePort, PROXY_BIN, tmpdir, rawExchange,
  splitResponses,
} from './lib/harness.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { h2connect } from './lib/h2raw.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });

function anthropicOnly(mock, extra = {}) {
  return { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: mock.url, ...extra } } };
}

describe('auth and headers towards Anthropic', () => {
  let mock, proxy;
  before(async () => {
    mock = await startMock(anthropicHandler());
    proxy = await startProxy({ config: anthropicOnly(mock, { token: OAUTH_TOKEN.replace('TEST', 'CONF') }) });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  test('client OAuth bearer: Bearer upstream, oauth beta merged once, no x-api-key, query kept', async () => {
    const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body: body(), headers: {
      authorization: `Bearer ${OAUTH_TOKEN}`, 'anthropic-beta': 'claude-code-20250219, oauth-2025-04-20,interleaved-thinking-2025-05-14',
      'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-stainless-os': 'Linux',
      'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)', 'keep-alive': 'timeout=5', te: 'trailers',
      'x-app': 'cli' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.content[0].text, 'Hello there');
    const up = mock.requests.at(-1);
    assert.equal(up.url, '/v1/messages?beta=true');
    assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
    assert.equal(up.headers['x-api-key'], undefined);
    assert.equal(up.headers['anthropic-beta'], 'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14');
    assert.equal(up.headers['anthropic-version'], '2023-06-01');
    assert.equal(up.headers['x-stainless-os'], 'Linux');
    assert.equal(up.headers['x-app'], 'cli');
    assert.equal(up.headers['user-agent'], 'claude-cli/2.1.197 (external, sdk-cli)');
    assert.equal(up.headers['keep-alive'], undefined, 'hop-by-hop header dropped');
    assert.equal(up.headers.te, undefined, 'hop-by-hop header dropped');
    assert.equal(up.headers.host, new URL(mock.url).host);
    assert.equal(r.headers['request-id'], 'req_json1', 'upstream response headers reach the client');
  });

  test('OAuth token sent as x-api-key becomes a Bearer with the oauth beta', async () => {
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: {
      'x-api-key': OAUTH_TOKEN, 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    const up = mock.requests.at(-1);
    assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
    assert.equal(up.headers['x-api-key'], undefined);
    assert.equal(up.headers['anthropic-beta'], 'oauth-2025-04-20');
    assert.equal(up.headers['anthropic-version'], '2023-06-01', 'default version added');
  });

  test('a real API key from the client goes as x-api-key without the oauth beta', async () => {
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: {
      'x-api-key': API_KEY, 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'anthropic-version': '2023-01-01' } });
    assert.equal(r.status, 200);
    const up = mock.requests.at(-1);
    assert.equal(up.headers['x-api-key'], API_KEY);
    assert.equal(up.headers.authorization, undefined);
    assert.equal(up.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(up.headers['anthropic-version'], '2023-01-01', "client's version kept");
  });

  test('no client credential: the configured CLAUDE_CODE_OAUTH_TOKEN is used', async () => {
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
    assert.equal(r.status, 200);
    const up = mock.requests.at(-1);
    assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN.replace('TEST', 'CONF')}`);
    assert.equal(up.headers['anthropic-beta'], 'oauth-2025-04-20');
  });

  test('count_tokens and other /v1 paths pass through with the same auth', async () => {
    let r = await request(`${proxy.url}/v1/messages/count_tokens?beta=true`, { method: 'POST', body: body(),
      headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { input_tokens: 42 });
    assert.equal(mock.requests.at(-1).url, '/v1/messages/count_tokens?beta=true');
    r = await request(`${proxy.url}/v1/models?limit=5`, { headers: { authorization: `Bearer ${OAUTH_TOKEN}`,
      'anthropic-version': '2023-06-01' } });
    const up = mock.requests.at(-1);
    assert.equal(up.method, 'GET');
    assert.equal(up.url, '/v1/models?limit=5');
    assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
  });

  test('headers the client names in Connection stay on its hop (RFC 9110 7.6.1)', async () => {
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: {
      connection: 'keep-alive, X-Hop-Secret ,x-other-hop', 'x-hop-secret': 'for the proxy only', 'x-other-hop': '1',
      'x-app': 'cli' } });
    assert.equal(r.status, 200);
    const up = mock.requests.at(-1).headers;
    assert.equal(up['x-hop-secret'], undefined);
    assert.equal(up['x-other-hop'], undefined);
    assert.equal(up['x-app'], 'cli', 'other headers still pass');
  });

  test('inference-profile and foundation-model ARNs are normalised to Anthropic names', async () => {
    for (const [m, want] of [
      ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4-20250514'],
      ['arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet-20250219'],
      ['arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku-20241022']]) {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: m }) });
      assert.equal(r.status, 200, m);
      assert.equal(JSON.parse(mock.requests.at(-1).body).model, want, m);
    }
  });

  test('Bedrock-form model names are normalised to Anthropic names, other bytes untouched', async () => {
    const sent = '{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "max_tokens":5,"messages":[{"role":"user","content":"hi \\u00e9"}]}';
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: sent,
      headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
    assert.equal(r.status, 200);
    const got = mock.requests.at(-1).body.toString();
    assert.equal(JSON.parse(got).model, 'claude-sonnet-4-5-20250929');
    assert.ok(got.includes('"max_tokens":5,"messages":[{"role":"user","content":"hi \\u00e9"}]'), got);
    for (const [m, want] of [['anthropic.claude-opus-4-6-v1', 'claude-opus-4-6'],
      ['anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku-20241022'],
      ['global.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5-20251001']]) {
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: m }) });
      assert.equal(JSON.parse(mock.requests.at(-1).body).model, want);
    }
    // an Anthropic name is forwarded byte for byte
    const plain = JSON.stringify(body());
    await request(`${proxy.url}/v1/messages`, { method: 'POST', body: plain });
    assert.equal(mock.requests.at(-1).body.toString(), plain);
  });
});

describe('a real Claude Code request', () => {
  test('116 KB body and Claude Code headers are relayed exactly; SSE comes back event by event', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const raw = fs.readFileSync(path.join(TEST_DATA, 'claude-code-request.json'));
      assert.ok(raw.length > 100000);
      const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body: raw,
        headers: { ...claudeCodeHeaders(), 'content-length': raw.length } });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /text\/event-stream/);
      const events = parseSse(r.text);
      assert.deepEqual(events.map((e) => e.event).slice(0, 2), ['message_start', 'content_block_start']);
      assert.equal(events.at(-1).event, 'message_stop');
      const up = mock.requests.at(-1);
      assert.ok(up.body.equals(raw), 'the body reaches Anthropic byte for byte');
      const want = claudeCodeHeaders();
      for (const h of ['anthropic-beta', 'anthropic-version', 'x-app', 'user-agent', 'x-claude-code-session-id',
        'anthropic-dangerous-direct-browser-access', 'x-stainless-retry-count', 'content-type']) {
        assert.equal(up.headers[h], want[h], h);
      }
      assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
      assert.equal(up.headers['accept-encoding'], 'identity');
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });
});

describe('a session\'s repeated tools and system', () => {
  // the proxy checks a body's tools and system once and then compares them with the last ones it
  // checked (json_scan_object_memo): a change anywhere in them must still be checked
  test('the same request twice is relayed twice; a broken byte in the repeated tools is refused, then all is as before', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const raw = fs.readFileSync(path.join(TEST_DATA, 'claude-code-request.json'));
      const send = (body) => request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body,
        headers: { ...claudeCodeHeaders(), 'content-length': body.length } });
      for (let i = 0; i < 2; i++) {
        const r = await send(raw);
        assert.equal(r.status, 200);
        assert.ok(mock.requests.at(-1).body.equals(raw), `request ${i + 1} reaches Anthropic byte for byte`);
      }
      const at = raw.indexOf('"tools":') + 40000; // inside the 80 KB of tools
      for (const [what, byte, re] of [['a raw control character', 0x01, /control character/],
        ['a backslash before a letter JSON does not know', null, /bad escape/]]) {
        const broken = Buffer.from(raw);
        const inString = broken.indexOf(' ', at); // a space inside a tool's description
        if (byte !== null) broken[inString] = byte;
        else broken.write('\\q', inString, 'latin1');
        const before = mock.requests.length;
        const r = await send(broken);
        assert.equal(r.status, 400, what);
        assert.equal(r.json.error.type, 'invalid_request_error');
        assert.match(r.json.error.message, re);
        assert.equal(mock.requests.length, before, `${what}: nothing went upstream`);
      }
      const again = await send(raw);
      assert.equal(again.status, 200);
      assert.ok(mock.requests.at(-1).body.equals(raw));
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });
});

describe('streaming, keep-alive, cancellation, timeouts', () => {
  test('SSE events reach the client before the upstream has sent the last one', async () => {
    let lastSentAt = 0;
    const mock = await startMock(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = sseEvents('one two three four');
      for (const e of evs) { res.write(e); await sleep(150); }
      lastSentAt = Date.now();
      res.end();
    });
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const firstAt = await new Promise((resolve, reject) => {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let first = 0;
          res.on('data', (d) => { if (!first && d.toString().includes('message_start')) first = Date.now(); });
          res.on('end', () => resolve(first));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body({ stream: true })));
      });
      assert.ok(firstAt > 0 && lastSentAt > 0);
      assert.ok(firstAt < lastSentAt - 500, `first event at ${firstAt}, last sent at ${lastSentAt}`);
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });

  test('upstream connections are kept alive and reused', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: i % 2 === 1 }) });
        assert.equal(r.status, 200);
      }
      assert.equal(mock.requests.length, 5);
      assert.equal(mock.connections, 1, 'one upstream connection for five requests');
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });

  test('an upstream that drops its kept-alive connections: every request still succeeds', async () => {
    let n = 0;
    const srv = net.createServer((s) => {
      s.on('data', () => {
        n++;
        const body = JSON.stringify({ type: 'message', content: [{ type: 'text', text: `answer ${n}` }] });
        // keep-alive is implied (HTTP/1.1), then the server closes the connection anyway,
        // sometimes at once and sometimes a little later
        s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        setTimeout(() => s.destroy(), n % 2 ? 0 : 30);
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: `http://127.0.0.1:${srv.address().port}` } } } });
    try {
      for (let i = 1; i <= 6; i++) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200, `request ${i}: ${r.text}`);
        await sleep(i % 3 === 0 ? 50 : 0);
      }
    } finally { await stopProxy(proxy, assert); srv.close(); }
  });

  test('a client that disconnects cancels its upstream request', async () => {
    let upstreamClosed = false;
    const mock = await startMock(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => { upstreamClosed = true; });
      for (let i = 0; i < 100 && !res.destroyed; i++) { res.write(sseEvents()[3]); await sleep(100); }
      res.end();
    });
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      await new Promise((resolve) => {
        const req = http.request(`${proxy.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', () => {});
        req.end(JSON.stringify(body({ stream: true })));
      });
      for (let i = 0; i < 40 && !upstreamClosed; i++) await sleep(50);
      assert.ok(upstreamClosed, 'the upstream saw its connection close');
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });

  test('an upstream that never answers gives 504 timeout_error after request_timeout', async () => {
    const mock = await startMock(() => {}); // never responds
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), request_timeout: 0.5 } });
    try {
      const t0 = Date.now();
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      const took = Date.now() - t0;
      assert.equal(r.status, 504);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, 'timeout_error');
      assert.ok(took >= 400 && took < 3000, `took ${took} ms`);
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });

  test('an upstream silent mid-stream gives an SSE error event and a clean end; a slow stream is fine', async () => {
    const mock = await startMock(async (req, res, raw) => {
      const b = JSON.parse(raw);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = sseEvents('a b c');
      if (b.max_tokens === 1) {
        res.write(evs[0]); // then silence
        return;
      }
      // 1.2 s in total but never silent for 0.6 s: not a timeout
      for (const e of evs) { res.write(e); await sleep(150); }
      res.end();
    });
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), request_timeout: 0.6 } });
    try {
      const silent = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true, max_tokens: 1 }) });
      assert.equal(silent.status, 200);
      const evs = parseSse(silent.text);
      assert.equal(evs[0].event, 'message_start');
      assert.equal(evs.at(-1).event, 'error');
      assert.equal(JSON.parse(evs.at(-1).data).error.type, 'timeout_error');
      const slow = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(parseSse(slow.text).at(-1).event, 'message_stop');
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });
});

describe('bad input and upstream failures get Anthropic error JSON', () => {
  let mock, proxy;
  before(async () => {
    mock = await startMock(anthropicHandler());
    proxy = await startProxy({ config: { ...anthropicOnly(mock), max_body: 64 * 1024 } });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  const cases = [
    ['invalid JSON', '{"model": "x", "messages": [}', 400, 'invalid_request_error', /not valid JSON/],
    ['not an object', '[1,2]', 400, 'invalid_request_error', /JSON object/],
    ['empty body', '', 400, 'invalid_request_error', /empty/],
    ['missing model', '{"messages":[]}', 400, 'invalid_request_error', /model/],
    ['model not a string', '{"model":5,"messages":[]}', 400, 'invalid_request_error', /model/],
    ['missing messages', '{"model":"claude-sonnet-5"}', 400, 'invalid_request_error', /messages/],
    ['messages not an array', '{"model":"claude-sonnet-5","messages":{}}', 400, 'invalid_request_error', /messages/],
    ['trailing garbage', '{"model":"m","messages":[]} x', 400, 'invalid_request_error', /trailing/],
    // the proxy reads model and stream by name: a second or escaped spelling would let the upstream
    // (which decodes names, and may keep either duplicate) serve another model than logs and route() saw
    ['escaped member name', '{"model":"claude-sonnet-5","m\\u006fdel":"claude-opus-9","messages":[]}', 400,
      'invalid_request_error', /escaped/],
    ['duplicate member name', '{"model":"claude-sonnet-5","messages":[],"model":"claude-opus-9"}', 400,
      'invalid_request_error', /duplicate/],
    ['escaped name of a member the proxy drops for Bedrock', '{"model":"m","messages":[],"str\\u0065am":true}', 400,
      'invalid_request_error', /escaped/],
  ];
  for (const [name, raw, status, type, re] of cases) {
    test(name, async () => {
      const before = mock.requests.length;
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: raw });
      assert.equal(r.status, status);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, type);
      assert.match(r.json.error.message, re);
      assert.match(r.headers['content-type'], /application\/json/);
      assert.equal(mock.requests.length, before, 'nothing went upstream');
    });
  }

  test('a body over max_body gets 413 in JSON', async () => {
    const big = JSON.stringify(body({ padding: 'x'.repeat(100 * 1024) }));
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: big });
    assert.equal(r.status, 413);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'request_too_large');
  });

  test('HEAD gets the headers, with the length, and no body: the kept-alive connection stays in step', async () => {
    const req = (method, p, extra = '') => `${method} ${p} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
    const { text } = await rawExchange(proxy.port, req('HEAD', '/health') + req('HEAD', '/nope') +
      req('HEAD', '/v1/messages') + req('GET', '/health', 'Connection: close\r\n'));
    const rs = splitResponses(text, [0, 1, 2]);
    assert.deepEqual(rs.map((r) => r.status), [200, 404, 405, 200], text);
    for (const r of rs.slice(0, 3)) assert.ok(Number(r.headers['content-length']) > 0, r.head);
    assert.equal(JSON.parse(rs[3].body).status, 'ok');
  });

  test('unknown path 404, wrong method 405', async () => {
    let r = await request(`${proxy.url}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.json.error.type, 'not_found_error');
    r = await request(`${proxy.url}/v1/messages`);
    assert.equal(r.status, 405);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(r.headers.allow, 'POST');
  });

  test('upstream error responses are relayed as they are', async () => {
    const m = await startMock((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'request-id': 'req_401' });
      res.end('{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}');
    });
    const p = await startProxy({ config: anthropicOnly(m) });
    try {
      const r = await request(`${p.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 401);
      assert.equal(r.reason, 'Unauthorized');
      assert.equal(r.json.error.message, 'invalid x-api-key');
      assert.equal(r.headers['request-id'], 'req_401');
    } finally { await stopProxy(p, assert); await m.close(); }
  });

  test('an unreachable upstream gives 502 api_error', async () => {
    // nothing listens on port 1 (a free port could be taken by a mock of a parallel suite)
    const p = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: {
      type: 'anthropic', base_url: 'http://127.0.0.1:1' } } } });
    try {
      const r = await request(`${p.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.equal(r.json.error.type, 'api_error');
      assert.match(r.json.error.message, /anthropic/);
    } finally { await stopProxy(p, assert); }
  });

  test('an upstream that resets the connection before answering gives 502', async () => {
    const srv = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const p = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: {
      type: 'anthropic', base_url: `http://127.0.0.1:${srv.address().port}` } } } });
    try {
      const r = await request(`${p.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.equal(r.json.type, 'error');
    } finally { await stopProxy(p, assert); srv.close(); }
  });
});

describe('TLS to the upstream', () => {
  test('https with a CA file works; TLS 1.2 and 1.3', async () => {
    const pki = makePki();
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const mock = await startMock(anthropicHandler(), { tls: pki.localhost, tlsOptions: { minVersion: v, maxVersion: v } });
      const proxy = await startProxy({ config: anthropicOnly(mock, { ca_file: pki.caFile }) });
      try {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
        assert.equal(r.status, 200, v);
        assert.equal(parseSse(r.text).at(-1).event, 'message_stop');
      } finally { await stopProxy(proxy, assert); await mock.close(); }
    }
  });

  test('SSL_CERT_FILE is honoured for private CAs', async () => {
    const pki = makePki();
    const mock = await startMock(anthropicHandler(), { tls: pki.localhost });
    const proxy = await startProxy({ config: anthropicOnly(mock), env: { SSL_CERT_FILE: pki.caFile } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('a certificate for another host is refused, on TLS 1.2 and on TLS 1.3', async () => {
    const pki = makePki();
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const mock = await startMock(anthropicHandler(), { tls: pki.other, tlsOptions: { minVersion: v, maxVersion: v } });
      const proxy = await startProxy({ config: anthropicOnly(mock, { ca_file: pki.caFile }) });
      try {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 502, `${v}: ${r.text}`);
        assert.equal(mock.requests.length, 0, 'no request reached the impostor');
      } finally { await stopProxy(proxy, assert); await mock.close(); }
    }
  });

  // base_url by address, as for a gateway on the local network: the certificate's IP address
  // entries decide (RFC 6125), not its host names
  const byAddress = (mock) => mock.url.replace('//localhost:', '//127.0.0.1:');
  test('an upstream addressed by IP: a certificate for that address works, TLS 1.2 and 1.3', async () => {
    const pki = makePki();
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const mock = await startMock(anthropicHandler(), { tls: pki.localhost, tlsOptions: { minVersion: v, maxVersion: v } });
      const proxy = await startProxy({ config: anthropicOnly(mock, { base_url: byAddress(mock), ca_file: pki.caFile }) });
      try {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
        assert.equal(r.status, 200, `${v}: ${r.text}`);
        assert.equal(parseSse(r.text).at(-1).event, 'message_stop');
        assert.equal(mock.requests.length, 1);
      } finally { await stopProxy(proxy, assert); await mock.close(); }
    }
  });

  test('an upstream addressed by IP: a certificate for another address, or naming it only as a host name, is refused', async () => {
    const pki = makePki();
    for (const [name, leaf] of [['another address', pki.otherIp], ['the address as a DNS name', pki.ipAsDns],
      ['a host name', pki.other]]) {
      for (const v of ['TLSv1.2', 'TLSv1.3']) {
        const mock = await startMock(anthropicHandler(), { tls: leaf, tlsOptions: { minVersion: v, maxVersion: v } });
        const proxy = await startProxy({ config: anthropicOnly(mock, { base_url: byAddress(mock), ca_file: pki.caFile }) });
        try {
          const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
          assert.equal(r.status, 502, `${name}, ${v}: ${r.text}`);
          assert.equal(JSON.parse(r.text).type, 'error');
          assert.equal(mock.requests.length, 0, `${name}, ${v}: no request reached the impostor`);
        } finally { await stopProxy(proxy, assert); await mock.close(); }
      }
    }
  });

  // What start would refuse, --check and `claude-proxy reload` refuse too: the config is read the
  // same way by all three, so a config that passes --check starts.
  const refusedEverywhere = (name, config, message) => test(name, async () => {
    const dir = tmpdir('cp-refused-');
    const file = path.join(dir, 'config.lua');
    fs.writeFileSync(file, config(await freePort()));
    const env = { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x',
      AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    for (const args of [['--check', '--config', file], ['--config', file], ['reload', '--config', file]]) {
      const r = spawnSync(PROXY_BIN, args, { env, timeout: 10000 });
      assert.equal(r.status, 1, `${args[0]}: exits 1 (${r.stdout}${r.stderr})`);
      assert.equal(r.signal, null, `${args[0]}: it exits by itself, at once`);
      assert.match(r.stderr.toString(), message, args[0]);
      assert.doesNotMatch(r.stdout.toString(), /config OK/, args[0]);
    }
  });

  refusedEverywhere('an address in a form parsers read differently (0177.0.0.1: 177.0.0.1 to OpenSSL, 127.0.0.1 to the resolver) is refused by --check, at start and by reload',
    (port) => `return { port = ${port}, order = { "anthropic" }, usage_db = false,
      providers = { anthropic = { type = "anthropic", base_url = "https://0177.0.0.1:8443" } } }\n`,
    /0177\.0\.0\.1:8443: write the address in the usual form/);

  refusedEverywhere('an Anthropic ca_file that does not exist is refused by --check, at start and by reload',
    (port) => `return { port = ${port}, order = { "anthropic" }, usage_db = false,
      providers = { anthropic = { type = "anthropic", base_url = "https://localhost:8443", ca_file = "/nonexistent/ca.pem" } } }\n`,
    /providers\.anthropic: https:\/\/localhost:8443: cannot load CA file \/nonexistent\/ca\.pem: No such file or directory/);

  refusedEverywhere('a Bedrock ca_file that holds no certificate is refused by --check, at start and by reload',
    (port) => {
      const bad = path.join(tmpdir('cp-badca-'), 'ca.pem');
      fs.writeFileSync(bad, 'not a certificate\n');
      return `return { port = ${port}, order = { "bedrock" }, usage_db = false,
        providers = { bedrock = { type = "bedrock", region = "us-west-2", ca_file = "${bad}" } } }\n`;
    },
    /providers\.bedrock: https:\/\/bedrock-runtime\.us-west-2\.amazonaws\.com: cannot load CA file .*ca\.pem: no certificate or crl found/);

  test('an unknown CA is refused', async () => {
    const pki = makePki();
    const mock = await startMock(anthropicHandler(), { tls: pki.localhost });
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 502);
      assert.equal(mock.requests.length, 0);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('the official @anthropic-ai/sdk as the client', () => {
  let mock, proxy, client;
  before(async () => {
    mock = await startMock(anthropicHandler({ delayMs: 5 }));
    proxy = await startProxy({ config: anthropicOnly(mock) });
    client = new Anthropic({ authToken: OAUTH_TOKEN, apiKey: null, baseURL: proxy.url, maxRetries: 0 });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  test('messages.create', async () => {
    const msg = await client.messages.create(body());
    assert.equal(msg.content[0].text, 'Hello there');
    assert.equal(msg.usage.output_tokens, 5);
    assert.equal(mock.requests.at(-1).headers.authorization, `Bearer ${OAUTH_TOKEN}`);
  });

  test('messages.stream', async () => {
    const stream = client.messages.stream(body());
    const deltas = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    assert.equal(deltas.join(''), 'Hello there');
    assert.ok(deltas.length >= 2, 'text arrived in several deltas');
    assert.equal(final.stop_reason, 'end_turn');
  });

  test('SDK errors carry the Anthropic error type', async () => {
    await assert.rejects(client.messages.create({ model: 'claude-sonnet-5', max_tokens: 5 }),
      (e) => e.status === 400 && e.error?.error?.type === 'invalid_request_error');
  });
});

describe('secrets and configuration', () => {
  test('no token appears in the logs, /health or /', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock, { token: OAUTH_TOKEN }) });
    try {
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'x-api-key': API_KEY } });
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
      const health = await request(`${proxy.url}/health`);
      const root = await request(`${proxy.url}/`);
      assert.equal(health.json.status, 'ok');
      assert.equal(root.json.name, 'claude-proxy');
      await stopProxy(proxy, assert);
      for (const text of [proxy.output, health.text, root.text]) {
        assert.ok(!text.includes('TESTTOKEN') && !text.includes('TESTAPIKEY'), text);
      }
      assert.ok(proxy.output.includes('POST /v1/messages'), 'request lines were logged');
    } finally { await mock.close(); }
  });

  test('every request gets exactly one log line: the proxy\'s own answers, refusals, H2O\'s errors, the exchange\'s', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: { ...anthropicOnly(mock), max_body: 64 * 1024, log_level: 'info' } });
    const json = { 'content-type': 'application/json' };
    const cases = [ // [method, path, options, status]; each path is told apart by its query
      ['GET', '/health?case=1', {}, 200],
      ['GET', '/?case=2', {}, 200],
      ['GET', '/metrics?case=3', {}, 200],
      ['HEAD', '/health?case=4', {}, 200],
      ['GET', '/nope?case=5', {}, 404],
      ['GET', '/v1/messages?case=6', {}, 405],
      ['POST', '/v1/messages?case=7', { body: '{}', headers: { 'content-type': 'text/plain' } }, 415],
      ['POST', '/v1/messages?case=8', { body: body(), headers: { origin: 'https://evil.example' } }, 403],
      ['POST', '/v1/messages?case=9', { body: body({ pad: 'x'.repeat(100 * 1024) }) }, 413],
      ['POST', '/v1/chat/completions?case=10', { body: { model: 'm' }, headers: json }, 400],
      ['POST', '/v1/messages?case=11', { body: '{}', headers: json }, 400],
      ['POST', '/v1/messages?case=12', { body: body(), headers: json }, 200],
      ['POST', '/v1/chat/completions?case=13', { body: { model: 'claude-sonnet-5',
        messages: [{ role: 'user', content: 'hi' }] }, headers: json }, 200],
      ['GET', '/v1/models?case=14', {}, 200],
    ];
    let metrics;
    try {
      for (const [method, p, opts, status] of cases) {
        const r = await request(`${proxy.url}${p}`, { method, ...opts });
        assert.equal(r.status, status, `${method} ${p}`);
      }
      metrics = (await request(`${proxy.url}/metrics`)).text;
    } finally { await stopProxy(proxy, assert); await mock.close(); }
    // the same single place counts them in /metrics, as the proxy's own answers
    const count = (endpoint, status) => Number(new RegExp(`^claude_proxy_requests_total\\{provider="proxy",endpoint="${endpoint}",status="${status}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(count('other', 404), 1);
    assert.equal(count('messages', 405), 1);
    assert.equal(count('messages', 415), 1);
    assert.equal(count('messages', 403), 1);
    assert.equal(count('messages', 413), 1, "H2O's own 413");
    assert.equal(count('messages', 400), 1, "the exchange's 400, counted once");
    assert.equal(count('chat_completions', 400), 1);
    assert.ok(Number.isNaN(count('chat_completions', 200)), 'the relayed chat completion is the exchange\'s, not the proxy\'s');
    assert.equal(count('models', 200), 1);
    assert.ok(count('info', 200) >= 4, metrics);
    const lines = proxy.output.split('\n');
    for (const [method, p, , status] of cases) {
      const mine = lines.filter((l) => l.includes(` ${method} ${p} `));
      assert.equal(mine.length, 1, `one line for ${method} ${p}:\n${mine.join('\n')}`);
      assert.match(mine[0], new RegExp(` info  ${method} \\S+ model=\\S+ provider=\\S+ status=${status} \\d+ms ttfb=\\d+ms bytes=\\d+`));
    }
    assert.match(lines.find((l) => l.includes('?case=12 ')), /model=claude-sonnet-5 provider=anthropic status=200/);
    assert.match(lines.find((l) => l.includes('?case=13 ')), /model=claude-sonnet-5 provider=anthropic status=200/);
    assert.match(lines.find((l) => l.includes('?case=14 ')), /model=- provider=- status=200/);
    assert.match(lines.find((l) => l.includes('?case=1 ')), /model=- provider=- status=200 \d+ms ttfb=\d+ms bytes=[1-9]/);
  });

  test('token-shaped strings in a path or a model never reach the log, in text or JSON lines', async () => {
    for (const format of ['text', 'json']) {
      const mock = await startMock(anthropicHandler());
      const proxy = await startProxy({ config: { ...anthropicOnly(mock), log_format: format } });
      try {
        await request(`${proxy.url}/v1/messages?beta=true&key=sk-ant-api03-PATHLEAK0123456789abcdef`, { method: 'POST', body: body() });
        await request(`${proxy.url}/nope?key=sk-ant-api03-LOCALLEAK0123456789abcdef`);
        // percent-encoded '-', either case, as a client's URL encoder may write them
        await request(`${proxy.url}/v1/messages?key=sk%2Dant%2Doat01%2DENCODEDLEAK0123456789abcdef`, { method: 'POST', body: body() });
        await request(`${proxy.url}/nope?key=sk%2dant-api03%2dENCODEDLEAK0123456789abcdef`);
        await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'sk-ant-oat01-MODELLEAK0123456789abcdef' }) });
        await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'x-sk-ant-oat01-GLUEDLEAK0123456789abcdef' }) });
        await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'AKIAMODELLEAK0123456' }) });
        await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'Bearer BEARERLEAK0123456789' }) });
      } finally { await stopProxy(proxy, assert); await mock.close(); }
      assert.ok(!proxy.output.includes('LEAK'), `${format}:\n${proxy.output}`);
      assert.match(proxy.output, /key=sk-ant-\*+cdef/, 'the last four characters tell tokens apart');
      assert.match(proxy.output, /key=sk%2Dant%2D\*+cdef/);
      assert.match(proxy.output, /key=sk%2dant-\*+cdef/);
      assert.match(proxy.output, /AKIA\*{12}3456/);
      if (format === 'json') {
        for (const l of proxy.output.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(l), l);
      }
    }
  });

  test('control characters a client sends in the method or path cannot add lines to the log, in text or JSON lines', async () => {
    // HTTP/2 carries CR/LF in :method and :path, which H2O refuses with 400 but which reach the log line
    const forged = '2026-01-01T00:00:00.000 error FORGED';
    for (const format of ['text', 'json']) {
      const mock = await startMock(anthropicHandler());
      const proxy = await startProxy({ config: { ...anthropicOnly(mock), http2: true, log_format: format, log_level: 'info' } });
      try {
        const c = await h2connect(proxy.port);
        const head = (method, p) => [[':method', method], [':scheme', 'http'], [':authority', 'localhost'], [':path', p]];
        for (const [method, p] of [['GET', `/nope\r\n${forged}`], [`GET\n${forged}`, '/health'], ['GET', '/nope\x1b[2J']]) {
          const r = await c.request(head(method, p));
          assert.equal(r.status, 400, JSON.stringify([method, p]));
        }
        c.close();
      } finally { await stopProxy(proxy, assert); await mock.close(); }
      const lines = proxy.output.trim().split('\n');
      assert.ok(!lines.some((l) => l.startsWith('2026-01-01')), `${format}: no forged line:\n${proxy.output}`);
      assert.ok(!proxy.output.includes('\r') && !proxy.output.includes('\x1b'), `${format}: no raw control character`);
      if (format === 'text') {
        assert.ok(lines.some((l) => l.includes(`GET /nope\\u000d\\u000a${forged} model=- `)), proxy.output);
        assert.ok(lines.some((l) => l.includes(`GET\\u000a${forged} /health model=- `)), proxy.output);
        assert.ok(lines.some((l) => l.includes('GET /nope\\u001b[2J model=- ')), proxy.output);
      } else {
        for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
        assert.ok(lines.some((l) => JSON.parse(l).msg.startsWith(`GET /nope\r\n${forged} model=- `)), proxy.output);
      }
    }
  });

  test('config lookup: $CLAUDE_PROXY_CONFIG, $XDG_CONFIG_HOME, ~/.config, then the installed file or the built-in one', () => {
    const dir = tmpdir('cp-lookup-');
    const home = path.join(dir, 'home'), xdg = path.join(dir, 'xdg');
    const put = (p) => {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, 'return { order = { "anthropic" }, providers = { anthropic = { type = "anthropic" } } }\n');
      return p;
    };
    const source = (env) => /^config: (.*)$/m.exec(execFileSync(PROXY_BIN, ['--check'],
      { env: { PATH: process.env.PATH, ...env } }).toString())[1];
    const none = source({ HOME: home, XDG_CONFIG_HOME: xdg });
    assert.match(none, /^\(built-in default\)$|\/claude-proxy\/claude-proxy\.lua$/);
    assert.ok(!none.startsWith(dir));
    const homeFile = put(path.join(home, '.config/claude-proxy/claude-proxy.lua'));
    assert.equal(source({ HOME: home }), homeFile);
    assert.equal(source({ HOME: home, XDG_CONFIG_HOME: xdg }), homeFile, 'XDG_CONFIG_HOME without our file: ~/.config still counts');
    const xdgFile = put(path.join(xdg, 'claude-proxy/claude-proxy.lua'));
    assert.equal(source({ HOME: home, XDG_CONFIG_HOME: xdg }), xdgFile, 'XDG_CONFIG_HOME comes first');
    const envFile = put(path.join(dir, 'explicit.lua'));
    assert.equal(source({ HOME: home, XDG_CONFIG_HOME: xdg, CLAUDE_PROXY_CONFIG: envFile }), envFile);
  });

  test('a provider URL pointing at the proxy itself is refused at start-up', async () => {
    const port = await freePort();
    const p = await startProxy({ expectFail: true, config: { port, providers: { anthropic: { type: 'anthropic',
      base_url: `http://localhost:${port}` } }, order: ['anthropic'] } });
    assert.equal(p.result.code, 1);
    assert.match(p.output, /points at this proxy's own address/);
  });

  test('so is one on another loopback form of the address the proxy listens on (any-address, IPv6, mapped IPv4)', async () => {
    const port = await freePort();
    for (const [listen, host] of [['::', '127.0.0.1'], ['0.0.0.0', '[::1]'], ['127.0.0.1', '[::ffff:127.0.0.1]'],
      ['127.0.0.1', 'app.localhost']]) {
      const p = await startProxy({ expectFail: true, config: { listen, port, providers: { anthropic: { type: 'anthropic',
        base_url: `http://${host}:${port}` } }, order: ['anthropic'] } });
      assert.equal(p.result.code, 1, `${listen} / ${host}`);
      assert.match(p.output, /points at this proxy's own address/, `${listen} / ${host}`);
    }
  });

  test('ANTHROPIC_BASE_URL is never used as the upstream', async () => {
    const port = await freePort();
    const p = await startProxy({ rawConfig: `local c = dofile(${JSON.stringify(path.join(process.env.CP_SOURCE_DIR || path.resolve('..'), 'etc/claude-proxy.lua'))})
c.port = ${port}
return c
`, config: { port }, env: { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`, PROXY_PORT: String(port) } });
    try {
      const h = await request(`${p.url}/health`);
      const anth = h.json.providers.find((x) => x.name === 'anthropic');
      assert.equal(anth.base_url, 'https://api.anthropic.com');
    } finally { await stopProxy(p, assert); }
  });

  test('a Lua error is reported with file:line and the proxy refuses to start', async () => {
    const p = await startProxy({ expectFail: true, rawConfig: 'return {\n  port = 1,\n  providers = nil .. 1,\n}\n' });
    assert.equal(p.result.code, 1);
    assert.match(p.output, /claude-proxy\.lua:3:/);
  });

  test('--check validates without starting, and --version/--help answer', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(PROXY_BIN, ['--check'], { env: { PATH: process.env.PATH, HOME: '/nonexistent',
      CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN } }).toString();
    assert.match(out, /order: anthropic bedrock/);
    assert.match(out, /request_timeout: 60s, ping_interval: 15s, stalled_client_timeout: 300s, .*log_level: info/);
    assert.match(out, /config OK/);
    assert.ok(!out.includes('TESTTOKEN'));
    assert.match(execFileSync(PROXY_BIN, ['--version']).toString(), /^claude-proxy \d/);
    assert.match(execFileSync(PROXY_BIN, ['--help']).toString(), /--config/);
  });
});
