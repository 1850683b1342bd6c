// Provider chain, fallback, cooldowns, route() and live reload, end to end. The fallback target
// here is a second Anthropic-type provider (several providers of one type are allowed), so this
// suite checks the routing itself; bedrock.test.mjs checks the same path into Bedrock.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Anthropic from '@anthropic-ai/sdk';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sseEvents, sleep, OAUTH_TOKEN, parseSse, freePort,
  PROXY_BIN, assertEndsWithError,
} from './lib/harness.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });

function rateLimited(headers = {}, status = 429) {
  return (req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'overloaded_error',
      message: 'rate limit exceeded' } }));
  };
}

// A mock whose behaviour can be switched while the test runs.
async function switchable(initial) {
  let current = initial;
  const mock = await startMock((req, res, body, rec) => current(req, res, body, rec));
  mock.set = (h) => { current = h; };
  return mock;
}

function twoProviders(primary, backup, extra = {}, primaryExtra = {}) {
  return {
    order: ['primary', 'backup'],
    providers: {
      primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN, cooldown: 1, throttle_cooldown: 1,
        ...primaryExtra },
      backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN, cooldown: 1 },
    },
    cooldown_min: 1,
    ...extra,
  };
}

const health = async (proxy) => (await request(`${proxy.url}/health`)).json;
const providerState = async (proxy, name) => (await health(proxy)).providers.find((p) => p.name === name);

describe('fallback on rate limits', () => {
  test('429 -> the next provider serves the same request; the SDK sees one normal stream', async () => {
    const primary = await switchable(rateLimited());
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const client = new Anthropic({ authToken: OAUTH_TOKEN, apiKey: null, baseURL: proxy.url, maxRetries: 0 });
      const stream = client.messages.stream(body());
      const msg = await stream.finalMessage();
      assert.equal(msg.content[0].text, 'from backup');
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 1);
      assert.ok(backup.requests[0].body.equals(primary.requests[0].body), 'identical body replayed');
      assert.equal(JSON.parse(backup.requests[0].body).stream, true, 'same stream flag');
      const st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'cooling');
      assert.equal(st.fallbacks, 1);
      assert.match(proxy.output, /primary throttled \(429.*using backup until \d\d:\d\d:\d\d/);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('while cooling the primary gets nothing; after the cooldown it is asked again', async () => {
    const primary = await switchable(rateLimited());
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      for (let i = 0; i < 3; i++) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200);
      }
      assert.equal(primary.requests.length, 1, 'primary skipped while cooling');
      assert.equal(backup.requests.length, 4);
      primary.set(anthropicHandler({ text: 'primary is back' }));
      await sleep(1200);
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.json.content[0].text, 'primary is back');
      assert.equal((await providerState(proxy, 'primary')).state, 'ok');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('retry-after and the unified reset header set the cooldown (bounded by cooldown_max)', async () => {
    const primary = await switchable(rateLimited({ 'retry-after': '30' }));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup, { cooldown_max: 3600 }) });
    try {
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      let st = await providerState(proxy, 'primary');
      assert.ok(st.cooling_seconds_left > 25 && st.cooling_seconds_left <= 30, JSON.stringify(st));
      assert.match(st.reason, /retry-after/);
    } finally {
      await stopProxy(proxy, assert);
    }
    const reset = Math.floor(Date.now() / 1000) + 7200;
    primary.set(rateLimited({ 'anthropic-ratelimit-unified-status': 'rejected', 'anthropic-ratelimit-unified-reset': String(reset),
      'anthropic-ratelimit-unified-5h-utilization': '1.01' }));
    const proxy2 = await startProxy({ config: twoProviders(primary, backup, { cooldown_max: 3600 }) });
    try {
      await request(`${proxy2.url}/v1/messages`, { method: 'POST', body: body() });
      const st = await providerState(proxy2, 'primary');
      assert.ok(st.cooling_seconds_left > 3590 && st.cooling_seconds_left <= 3600, `clamped to cooldown_max: ${JSON.stringify(st)}`);
      assert.match(st.reason, /unified-reset/);
    } finally {
      await stopProxy(proxy2, assert);
      await primary.close(); await backup.close();
    }
  });

  test('529 and connection refused fall back; 500 does not by default but does when configured', async () => {
    const primary = await switchable(rateLimited({}, 529));
    const backup = await startMock(anthropicHandler());
    let proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      assert.equal(backup.requests.length, 1);
    } finally { await stopProxy(proxy, assert); }

    proxy = await startProxy({ config: twoProviders({ url: 'http://127.0.0.1:1' }, backup) }); // nothing listens on port 1
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      assert.equal(backup.requests.length, 2);
    } finally { await stopProxy(proxy, assert); }

    primary.set((req, res) => { res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"type":"error","error":{"type":"api_error","message":"Internal server error"}}'); });
    proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 500, '500 is relayed by default');
      assert.equal(r.json.error.type, 'api_error');
      assert.equal(backup.requests.length, 2);
    } finally { await stopProxy(proxy, assert); }

    proxy = await startProxy({ config: twoProviders(primary, backup, {}, { fallback_on: [429, '5xx'] }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, '500 falls back with fallback_on "5xx"');
      assert.equal(backup.requests.length, 3);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('all providers cooling -> 429 rate_limit_error with retry-after of the soonest expiry', async () => {
    const primary = await startMock(rateLimited({ 'retry-after': '20' }));
    const backup = await startMock(rateLimited({ 'retry-after': '40' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup, { cooldown_max: 3600 }) });
    try {
      const first = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(first.status, 429, 'the last provider in the chain answers with its own 429');
      assert.equal(first.reason, 'Too Many Requests');
      assert.equal(first.headers['retry-after'], '40');
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 429);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, 'rate_limit_error');
      const ra = Number(r.headers['retry-after']);
      assert.ok(ra >= 18 && ra <= 20, `retry-after ${ra}`);
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 1);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('a storm of 50 concurrent 429s: all served, one cooldown, one log line', async () => {
    const primary = await startMock(async (req, res) => { await sleep(50); rateLimited()(req, res); });
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup, {}, { cooldown: 30 }) });
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: i % 2 === 0 }) })));
      assert.ok(results.every((r) => r.status === 200), results.map((r) => r.status).join(','));
      assert.equal(backup.requests.length, 50);
      const lines = proxy.output.split('\n').filter((l) => /primary throttled/.test(l));
      assert.equal(lines.length, 1, lines.join('\n'));
      const metrics = (await request(`${proxy.url}/metrics`)).text;
      assert.match(metrics, /claude_proxy_cooldowns_total\{provider="primary"\} 1\n/);
      // every request that reached the primary got its 429 and fell back; later ones skipped it
      assert.match(metrics, new RegExp(`claude_proxy_fallbacks_total\\{provider="primary"\\} ${primary.requests.length}\n`));
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('an upstream failing mid-stream: SSE error event, no replay to the next provider', async () => {
    const primary = await startMock((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = sseEvents('a b c');
      res.write(evs[0] + evs[1]);
      setTimeout(() => res.socket.destroy(), 100);
    });
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      const evs = parseSse(r.text);
      assert.equal(evs[0].event, 'message_start');
      assertEndsWithError(evs);
      assert.equal(backup.requests.length, 0, 'no replay after bytes went out');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});

describe('route()', () => {
  test('route() can send one model to another provider and override the model', async () => {
    const primary = await startMock(anthropicHandler({ text: 'primary' }));
    const backup = await startMock(anthropicHandler({ text: 'backup' }));
    const cfg = twoProviders(primary, backup);
    cfg.route = { lua: `function(req)
      if req.model:match("haiku") then return { "backup" }, "claude-haiku-4-5-20251001" end
      if req.headers["x-route"] == "backup" then return { "backup" } end
    end` };
    const proxy = await startProxy({ config: cfg });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-haiku-4-5' }) });
      assert.equal(r.json.content[0].text, 'backup');
      assert.equal(JSON.parse(backup.requests.at(-1).body).model, 'claude-haiku-4-5-20251001');
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.json.content[0].text, 'primary');
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'x-route': 'backup' } });
      assert.equal(r.json.content[0].text, 'backup');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('route() sees no secrets', async () => {
    const primary = await startMock(anthropicHandler({ text: 'primary' }));
    const cfg = { order: ['primary'], providers: { primary: { type: 'anthropic', base_url: primary.url } },
      route: { lua: `function(req)
        for k, v in pairs(req.headers) do if tostring(v):match("sk%-ant") then error("saw a secret in " .. k) end end
      end` } };
    const proxy = await startProxy({ config: cfg });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(), headers: {
        authorization: `Bearer ${OAUTH_TOKEN}`, 'x-api-key': OAUTH_TOKEN } });
      assert.equal(r.status, 200);
      assert.ok(!proxy.output.includes('saw a secret'), proxy.output);
    } finally { await stopProxy(proxy, assert); await primary.close(); }
  });

  test('route() raising an error, looping forever or eating memory: static order, logged once, request served', async () => {
    for (const fn of ['function(req) error("boom") end', 'function(req) while true do end end',
      // 16 MiB strings made of 64 KiB pieces: string.rep copies its piece once per repetition, and a
      // byte at a time is slow enough under ASan that the CPU limit, not the memory one, came first
      'function(req) local s, t = string.rep("x", 65536), {} for i = 1, 8 do t[i] = string.rep(s, 256) end end',
      // memory it keeps: later calls start near the budget, and the proxy's own calls into Lua
      // (building the request view, mapping models) must still not fail outside a pcall
      'function(req) KEEP = KEEP or {} KEEP[#KEEP + 1] = string.rep(string.rep("x", 65536), 384) end']) {
      const primary = await startMock(anthropicHandler({ text: 'primary' }));
      const proxy = await startProxy({ config: { order: ['primary'], providers: { primary: { type: 'anthropic',
        base_url: primary.url } }, route: { lua: fn } } });
      try {
        for (let i = 0; i < 3; i++) {
          const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
          assert.equal(r.status, 200);
          assert.equal(r.json.content[0].text, 'primary');
        }
        const lines = proxy.output.split('\n').filter((l) => /route\(\) failed/.test(l));
        assert.equal(lines.length, 1, proxy.output);
        assert.match(lines[0], fn.includes('boom') ? /boom/ : fn.includes('rep') ? /not enough memory/ : /instructions/);
      } finally { await stopProxy(proxy, assert); await primary.close(); }
    }
  });
});

describe('reload', () => {
  test('a valid edit takes effect on SIGHUP; cooldowns carry over; /health shows the reload', async () => {
    const primary = await startMock(anthropicHandler({ text: 'primary' }));
    const backup = await startMock(anthropicHandler({ text: 'backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.json.content[0].text, 'primary');
      const cfg = twoProviders(primary, backup);
      cfg.order = ['backup', 'primary'];
      proxy.writeConfig(cfg);
      proxy.child.kill('SIGHUP');
      await sleep(300);
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.json.content[0].text, 'backup');
      const h = await health(proxy);
      assert.equal(h.config.reloads, 1);
      assert.deepEqual(h.order, ['backup', 'primary']);
      assert.equal(h.providers.find((p) => p.name === 'primary').requests, 1, 'counters carried over');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('a syntax error keeps the old config serving and shows the error with file:line', async () => {
    const primary = await startMock(anthropicHandler({ text: 'primary' }));
    const proxy = await startProxy({ config: { order: ['primary'], providers: { primary: { type: 'anthropic',
      base_url: primary.url } } } });
    try {
      proxy.writeConfig('return {\n  port = ,\n}\n');
      const out = execFileSync(PROXY_BIN, ['reload', '--config', proxy.configPath], { encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      assert.fail(`reload should refuse a broken config, printed: ${out}`);
    } catch (e) {
      if (e.code === 'ERR_ASSERTION') throw e;
      assert.match(String(e.stderr), /claude-proxy\.lua:2:/);
    }
    try {
      proxy.child.kill('SIGHUP');
      await sleep(300);
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.json.content[0].text, 'primary', 'old config still serves');
      const h = await health(proxy);
      assert.match(h.config.reload_error, /claude-proxy\.lua:2:/);
      assert.match(proxy.output, /reload failed, keeping the running config/);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close();
    }
  });

  test('a syntax error next to a client key: /health and the log show file:line, never the key', async () => {
    const primary = await startMock(anthropicHandler({ text: 'primary' }));
    const proxy = await startProxy({ config: { order: ['primary'], providers: { primary: { type: 'anthropic',
      base_url: primary.url } } } });
    try {
      // a missing comma: Lua quotes the string it stopped at ("near '\'ck-...\''")
      proxy.writeConfig(`return {\n  order = { 'primary' },\n  providers = { primary = { type = 'anthropic', base_url = '${primary.url}' } },\n`
        + "  client_keys = { 'ck-first-KEYSECRET' 'ck-second-KEYSECRET' },\n}\n");
      proxy.child.kill('SIGHUP');
      await sleep(300);
      const h = await health(proxy);
      assert.match(h.config.reload_error, /claude-proxy\.lua:4: '}' expected near <string>$/);
      assert.match(proxy.output, /reload failed, keeping the running config: .*claude-proxy\.lua:4: .*near <string>/);
      assert.ok(!JSON.stringify(h).includes('KEYSECRET') && !proxy.output.includes('KEYSECRET'), proxy.output);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close();
    }
  });

  test('`claude-proxy reload` finds the instance by its pid file; an open stream completes across a reload', async () => {
    const primary = await startMock(anthropicHandler({ text: 'one two three four five six', delayMs: 120 }));
    const backup = await startMock(anthropicHandler({ text: 'backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const streaming = request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      await sleep(250);
      const cfg = twoProviders(primary, backup);
      cfg.order = ['backup'];
      proxy.writeConfig(cfg);
      const out = execFileSync(PROXY_BIN, ['reload', '--config', proxy.configPath]).toString();
      assert.match(out, /asked pid \d+ to reload/);
      await sleep(200);
      const r2 = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r2.json.content[0].text, 'backup', 'new requests use the new config');
      const r = await streaming;
      const evs = parseSse(r.text);
      assert.equal(evs.at(-1).event, 'message_stop', 'the open stream completed on the old config');
      const text = evs.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('');
      assert.equal(text, 'one two three four five six');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});
