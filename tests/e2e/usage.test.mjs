// Usage and cost of every request: token counts read from what the mock upstream sent (SSE,
// JSON, Bedrock's event-stream, a stream cut midway), priced from lua/prices.lua, on the log line.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startMock, startProxy, stopProxy, request, sleep, tmpdir, anthropicHandler, OAUTH_TOKEN, API_KEY, PROXY_BIN }
  from './lib/harness.mjs';

// `claude-proxy usage ...` with the proxy's config: its stdout, stderr and status.
function usageCommand(configPath, ...args) {
  const r = spawnSync(PROXY_BIN, ['usage', '--config', configPath, ...args], { encoding: 'utf8',
    env: { ...process.env, HOME: path.dirname(configPath) } });
  return { out: r.stdout, err: r.stderr, status: r.status };
}
import { startBedrockMock, bedrockEnv, chunkFrame } from './lib/bedrock-mock.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'hi' }], ...extra });

const USAGE_START = { input_tokens: 1500, cache_creation_input_tokens: 300, cache_read_input_tokens: 20000,
  output_tokens: 1 };
const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
function streamEvents(model) {
  return [
    ev('message_start', { message: { id: 'msg_u', type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, usage: USAGE_START } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'event: message_delta' } }),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 250 } }),
    ev('message_stop', {}),
  ];
}

// An upstream whose answers carry the usage above; `cut` ends a stream after its first two events.
function usageHandler({ cut = false } = {}) {
  return async (req, res, raw) => {
    const j = JSON.parse(raw.toString());
    if (j.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const evs = streamEvents(j.model);
      for (const e of cut ? evs.slice(0, 2) : evs) {
        res.write(e);
        await sleep(2);
      }
      if (cut) res.destroy(); else res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'msg_u', type: 'message', role: 'assistant', model: j.model,
        content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn',
        usage: { ...USAGE_START, output_tokens: 250 } }));
    }
  };
}

// The n-th log line matching pattern (1-based), once it is there (the log arrives through a pipe).
async function logLine(proxy, pattern, n) {
  for (let waited = 0; ; waited += 20) {
    const lines = proxy.output.split('\n').slice(0, -1).filter((l) => pattern.test(l)); // whole lines only
    if (lines.length >= n || waited > 10000) return lines[n - 1] ?? '';
    await sleep(20);
  }
}

// Sonnet 5.5, $2/$10, cache write 1.25x and read 0.1x input:
// 1500 * 2 + 250 * 10 + 300 * 2.5 + 20000 * 0.2 = 3000 + 2500 + 750 + 4000 = 10250 micro-dollars
const FULL_COST = '0.010250';

describe('usage on the log line', () => {
  test('Anthropic: JSON and SSE, subscription value and API-key spend, a stream cut midway', async () => {
    const up = await startMock(usageHandler());
    const cutUp = await startMock(usageHandler({ cut: true }));
    const proxy = await startProxy({ config: { order: ['anthropic', 'cut'], providers: {
      anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN },
      cut: { type: 'anthropic', base_url: cutUp.url, token: OAUTH_TOKEN } } } });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      let line = await logLine(proxy, /POST \/v1\/messages .*status=200/, 1);
      assert.match(line, / input=1500 output=250 cache_write=300 cache_read=20000 value_usd=0\.010250$/);
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }),
        headers: { 'x-api-key': API_KEY } });
      assert.equal(r.status, 200);
      line = await logLine(proxy, /POST \/v1\/messages .*status=200/, 2);
      assert.match(line, new RegExp(` input=1500 output=250 cache_write=300 cache_read=20000 spend_usd=${FULL_COST}$`));
      // the same through the OpenAI endpoint (converted answer, usage read from the upstream's)
      r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST',
        body: { model: 'claude-sonnet-5-5', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 200);
      assert.match(await logLine(proxy, /POST \/v1\/chat\/completions/, 1), / input=1500 output=250 .* value_usd=/);
    } finally {
      await stopProxy(proxy, assert);
    }
    // cut after message_start: the input counts it said, the output count it had reached
    const cutProxy = await startProxy({ config: { order: ['cut'], providers: {
      cut: { type: 'anthropic', base_url: cutUp.url, token: OAUTH_TOKEN } } } });
    try {
      const r = await request(`${cutProxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(r.status, 200);
      assert.match(r.text, /event: error/);
      const line = await logLine(cutProxy, /POST \/v1\/messages .*status=200/, 1);
      // 1500 * 2 + 1 * 10 + 750 + 4000 = 7760 micro-dollars
      assert.match(line, / input=1500 output=1 cache_write=300 cache_read=20000 value_usd=0\.007760$/);
    } finally {
      await stopProxy(cutProxy, assert);
      await up.close(); await cutUp.close();
    }
  });

  test('Bedrock: event-stream and JSON, always spend, at the provider\'s own prices', async () => {
    const mock = await startBedrockMock({ behaviour: (record) => {
      const model = 'claude-sonnet-5-5';
      if (record.url.endsWith('/invoke-with-response-stream')) {
        return async (req, res) => {
          res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
          for (const e of streamEvents(model)) {
            const f = chunkFrame(JSON.parse(e.split('\ndata: ')[1]));
            res.write(f.subarray(0, 5));
            res.write(f.subarray(5));
          }
          res.end();
        };
      }
      return null;
    } });
    const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['bedrock'], providers: {
      bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: mock.url, mantle_endpoint: mock.url,
        prices: { 'claude-sonnet-4-5': { input: 3.3, output: 16.5, cache_write: 4 } } } } } });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST',
        body: body({ model: 'claude-sonnet-4-5', stream: true }) });
      assert.equal(r.status, 200, r.text);
      // at the override: 1500 * 3.3 + 250 * 16.5 + 300 * 4 + 20000 * 0.33 = 4950 + 4125 + 1200 + 6600
      assert.match(await logLine(proxy, /POST \/v1\/messages .*status=200/, 1),
        / input=1500 output=250 cache_write=300 cache_read=20000 spend_usd=0\.016875$/);
      // InvokeModel's JSON answer (the default mock's: 12 in, 5 out) at the same override
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-4-5' }) });
      assert.equal(r.status, 200, r.text);
      assert.match(await logLine(proxy, /POST \/v1\/messages .*status=200/, 2),
        / input=12 output=5 cache_write=0 cache_read=0 spend_usd=0\.000122$/);
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });
});

// Reads the ledger with Python's sqlite3 (node 20 has none): the rows of a query, as objects.
function sql(db, query) {
  const r = spawnSync('python3', ['-c', `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.row_factory = sqlite3.Row
print(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))`, db, query], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

async function burst(url, n, concurrency, make) {
  let next = 0;
  const statuses = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      statuses[i] = (await request(`${url}/v1/messages`, make(i))).status;
    }
  }));
  return statuses;
}

describe('the usage ledger', () => {
  test('a burst of 1,000 requests: one row each, flushed at shutdown, kept across a restart', async () => {
    const up = await startMock(usageHandler());
    const dir = tmpdir('cp-ledger-');
    const db = path.join(dir, 'sub', 'usage.db');
    const config = { usage_db: db, order: ['anthropic'], providers: {
      anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } } };
    let proxy = await startProxy({ config, env: { CLAUDE_PROXY_LOG_LEVEL: 'info' } });
    try {
      const secretPrompt = 'a prompt that must never reach the ledger';
      const statuses = await burst(proxy.url, 1000, 16, (i) => ({ method: 'POST',
        body: body({ stream: i % 2 === 0, messages: [{ role: 'user', content: secretPrompt }] }),
        headers: { 'x-claude-code-session-id': i < 10 ? '6f1c2a4e-0b8d-4c55-9a1e-3f2b7c9d0e11' : 'sess-2',
          ...(i % 4 === 1 ? { 'x-api-key': API_KEY } : {}) } }));
      assert.deepEqual([...new Set(statuses)], [200]);
      await stopProxy(proxy, assert);
      const [count] = sql(db, 'SELECT COUNT(*) AS n, SUM(streamed) AS streamed, SUM(input_tokens) AS input,'
        + " SUM(billing = 'metered') AS metered, SUM(session_id = 'sess-2') AS sess2 FROM requests");
      assert.deepEqual(count, { n: 1000, streamed: 500, input: 1500000, metered: 250, sess2: 990 });
      const [row] = sql(db, "SELECT * FROM requests WHERE billing = 'metered' LIMIT 1");
      assert.equal(row.provider, 'anthropic');
      assert.equal(row.client_model, 'claude-sonnet-5-5');
      assert.equal(row.endpoint, 'messages');
      assert.equal(row.status, 200);
      assert.equal(row.output_tokens, 250);
      assert.equal(row.cache_write_tokens, 300);
      assert.equal(row.cache_read_tokens, 20000);
      assert.ok(Math.abs(row.cost_usd - 0.01025) < 1e-12, String(row.cost_usd));
      assert.equal(row.fell_back, 0);
      assert.ok(row.duration_ms >= row.ttfb_ms && row.ttfb_ms >= 0);
      assert.ok(Math.abs(row.time_ms - Date.now()) < 120000);
      assert.deepEqual(sql(db, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(sql(db, 'PRAGMA user_version'), [{ user_version: 1 }]);
      // never content, never a credential
      const bytes = fs.readFileSync(db).toString('latin1');
      for (const secret of [secretPrompt, OAUTH_TOKEN, API_KEY, 'sk-ant-']) assert.ok(!bytes.includes(secret), secret);

      proxy = await startProxy({ config });
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      // the report reads the file while the proxy runs (its row is written within a second or so)
      await sleep(1500);
      let u = usageCommand(proxy.configPath, '--json');
      assert.equal(u.status, 0, u.err);
      let j = JSON.parse(u.out);
      assert.equal(j.total.requests, 1001);
      await stopProxy(proxy, assert);
      assert.deepEqual(sql(db, 'SELECT COUNT(*) AS n FROM requests'), [{ n: 1001 }]);

      // and when it does not: 751 subscription requests (value) and 250 with an API key (spend)
      u = usageCommand(proxy.configPath, '--json', '--since', '7d', '--by', 'provider');
      assert.equal(u.status, 0, u.err);
      j = JSON.parse(u.out);
      assert.equal(j.by, 'provider');
      assert.equal(j.ledger, db);
      assert.equal(j.rows.length, 1);
      const a = j.rows[0];
      assert.equal(a.provider, 'anthropic');
      assert.equal(a.requests, 1001);
      assert.equal(a.fell_back, 0);
      assert.equal(a.input_tokens, 1001 * 1500);
      assert.equal(a.cache_read_tokens, 1001 * 20000);
      assert.ok(Math.abs(a.cache_hit_share - 20000 / 21800) < 1e-9);
      assert.ok(Math.abs(a.spend_usd - 250 * 0.01025) < 1e-9, String(a.spend_usd));
      assert.ok(Math.abs(a.subscription_value_usd - 751 * 0.01025) < 1e-9);
      u = usageCommand(proxy.configPath, '--by', 'session', '--csv');
      assert.equal(u.status, 0, u.err);
      const csv = u.out.trim().split('\n');
      assert.match(csv[0], /^session,requests,fell_back,input_tokens,/);
      assert.ok(csv.some((l) => l.startsWith('sess-2,990,0,1485000,247500,297000,19800000,0.9174,')), u.out);
      assert.ok(csv.some((l) => l.startsWith('6f1c2a4e-0b8d-4c55-9a1e-3f2b7c9d0e11,10,')), u.out);
      // a table a person reads at a glance
      u = usageCommand(proxy.configPath);
      assert.equal(u.status, 0, u.err);
      assert.match(u.out, /^usage since .* \(24h\), by provider, from /);
      assert.match(u.out, /\nprovider +requests +fell back +input +output +cache wr +cache rd +cache% +spend +sub value\n/);
      assert.match(u.out, /\nanthropic +1,001 +0 +1\.5M +250\.2k +300\.3k +20\.0M +92% +\$2\.56 +\$7\.70\n/);
      assert.equal(usageCommand(proxy.configPath, '--since', 'yesterday').status, 2);
      assert.equal(usageCommand(proxy.configPath, '--by', 'colour').status, 2);
    } finally {
      if (proxy.child.exitCode === null) await proxy.stop();
      await up.close();
    }
  });

  test('GET /usage percent-decodes its parameters (strictly) and takes a time with its zone; so does usage --since', async () => {
    const up = await startMock(usageHandler());
    const db = path.join(tmpdir('cp-ledger-'), 'usage.db');
    const proxy = await startProxy({ config: { usage_db: db, order: ['anthropic'], providers: {
      anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } } } });
    try {
      assert.equal((await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() })).status, 200);
      for (let i = 0; i < 100 && (await request(`${proxy.url}/health`)).json.usage_ledger.rows_written < 1; i++) await sleep(50);
      const hourAgo = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600e3);
      const iso = hourAgo.toISOString().replace(/\.\d+Z$/, 'Z');
      // as a browser's URLSearchParams writes it: the colons encoded
      const q = new URLSearchParams({ since: iso, by: 'model' }).toString();
      assert.match(q, /%3A/);
      let r = await request(`${proxy.url}/usage?${q}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.since, iso);
      assert.equal(r.json.since_ms, hourAgo.getTime());
      assert.equal(r.json.by, 'model');
      assert.equal(r.json.total.requests, 1);
      // an offset, encoded or not ('+' stays '+'), and escapes in names
      const local = new Date(hourAgo.getTime() + 3600e3).toISOString().slice(0, 19) + '+01:00';
      for (const query of [`since=${encodeURIComponent(local)}`, `since=${local}`, `%73ince=${local.replace(/:/g, '%3a')}&%62y=%70rovider`]) {
        r = await request(`${proxy.url}/usage?${query}`);
        assert.equal(r.status, 200, `${query}: ${r.text}`);
        assert.equal(r.json.since_ms, hourAgo.getTime(), query);
        assert.equal(r.json.by, 'provider');
      }
      for (const query of ['since=24h%3', 'since=%zz24h', 'since=24h%00', 'by=%', 'b%y=day', 'since=%E2%82']) {
        r = await request(`${proxy.url}/usage?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(r.json.type, 'error');
        assert.equal(r.json.error.type, 'invalid_request_error');
        assert.match(r.json.error.message, query === 'since=%E2%82' ? /since must be/ : /malformed %-escape/, query);
      }
      // a time must say its zone
      r = await request(`${proxy.url}/usage?since=${iso.slice(0, -1)}`);
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /since must be .*2026-12-01T09:00:00Z/);
      await sleep(1200); // the row is on disk for the command as well
      const u = usageCommand(proxy.configPath, '--json', '--since', iso);
      assert.equal(u.status, 0, u.err);
      assert.equal(JSON.parse(u.out).total.requests, 1);
      assert.equal(usageCommand(proxy.configPath, '--since', iso.slice(0, -1)).status, 2);
    } finally { await stopProxy(proxy, assert); await up.close(); }
  });

  test('a corrupt or unusable file: requests are served, it is logged once; usage_db = false keeps none', async () => {
    const up = await startMock(anthropicHandler());
    const dir = tmpdir('cp-ledger-');
    const db = path.join(dir, 'usage.db');
    fs.writeFileSync(db, 'not a database '.repeat(500));
    const providers = { anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } };
    let proxy = await startProxy({ config: { usage_db: db, order: ['anthropic'], providers } });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200);
        await sleep(400);
      }
      const ledger = JSON.parse((await request(`${proxy.url}/health`)).text).usage_ledger;
      assert.deepEqual(ledger, { path: db, rows_written: 0, rows_dropped: 0, failing: true });
      await stopProxy(proxy, assert);
      const said = proxy.output.split('\n').filter((l) => l.includes(`usage ledger ${db}`) && l.includes('said once'));
      assert.equal(said.length, 1, proxy.output);
      assert.match(said[0], /file is not a database/);

      proxy = await startProxy({ config: { usage_db: false, order: ['anthropic'], providers } });
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      await stopProxy(proxy, assert);
      assert.ok(!fs.existsSync(path.join(proxy.dir, '.local')), 'no ledger in the default place');
      assert.match(proxy.output, /usage ledger: off/);
      const u = usageCommand(proxy.configPath);
      assert.equal(u.status, 1);
      assert.match(u.err, /keeps no usage ledger/);
    } finally {
      if (proxy.child.exitCode === null) await proxy.stop();
      await up.close();
    }
  });

  test('a request that fell back: the row names the provider, route and model that served it', async () => {
    const overloaded = await startMock((req, res) => {
      res.writeHead(529, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    });
    const mock = await startBedrockMock();
    const db = path.join(tmpdir('cp-ledger-'), 'usage.db');
    const proxy = await startProxy({ env: bedrockEnv(), config: { usage_db: db, order: ['anthropic', 'bedrock'],
      providers: { anthropic: { type: 'anthropic', base_url: overloaded.url, token: OAUTH_TOKEN },
        bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: mock.url, mantle_endpoint: mock.url } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-4-5' }) });
      assert.equal(r.status, 200, r.text);
      await stopProxy(proxy, assert);
      const [row] = sql(db, 'SELECT provider, route, client_model, upstream_model, fell_back, billing, status,'
        + ' streamed, input_tokens, output_tokens, cost_usd FROM requests');
      assert.equal(row.provider, 'bedrock');
      assert.equal(row.route, 'invoke');
      assert.equal(row.client_model, 'claude-sonnet-4-5');
      assert.match(row.upstream_model, /anthropic\.claude-sonnet-4-5/);
      assert.deepEqual([row.fell_back, row.billing, row.status, row.streamed, row.input_tokens, row.output_tokens],
        [1, 'metered', 200, 0, 12, 5]);
      assert.ok(Math.abs(row.cost_usd - 111e-6) < 1e-12); // Sonnet 4.5, $3/$15
      const u = usageCommand(proxy.configPath, '--by', 'model', '--json');
      assert.equal(u.status, 0, u.err);
      const j = JSON.parse(u.out);
      assert.deepEqual(j.rows.map((x) => [x.model, x.requests, x.fell_back]), [['claude-sonnet-4-5', 1, 1]]);
    } finally {
      if (proxy.child.exitCode === null) await proxy.stop();
      await overloaded.close(); await mock.close();
    }
  });

  test('the default place is $XDG_STATE_HOME/claude-proxy/usage.db, else ~/.local/state', async () => {
    const up = await startMock(anthropicHandler());
    const state = tmpdir('cp-state-');
    const providers = { anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } };
    for (const env of [{ XDG_STATE_HOME: state }, {}]) {
      const proxy = await startProxy({ config: { order: ['anthropic'], providers }, env });
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      await stopProxy(proxy, assert);
      const db = env.XDG_STATE_HOME ? path.join(state, 'claude-proxy/usage.db')
        : path.join(proxy.dir, '.local/state/claude-proxy/usage.db');
      assert.deepEqual(sql(db, 'SELECT COUNT(*) AS n FROM requests'), [{ n: 1 }]);
      assert.equal(fs.statSync(path.dirname(db)).mode & 0o777, 0o700);
    }
    await up.close();
  });
});

describe('budgets', () => {
  // The proxy's clock (CLAUDE_PROXY_CLOCK_OFFSET, in UTC) set to the 15th of this month at h:m:s.
  function clockAt(h, m, s) {
    const now = new Date();
    const target = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 15, h, m, s);
    return { TZ: 'UTC', CLAUDE_PROXY_CLOCK_OFFSET: String((target - Date.now()) / 1000) };
  }

  test('a daily budget stops a metered provider, survives a restart, and the end of the day lifts it', async () => {
    const mock = await startBedrockMock();
    const dir = tmpdir('cp-budget-');
    const config = { usage_db: path.join(dir, 'usage.db'), order: ['bedrock'], providers: {
      bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: mock.url, mantle_endpoint: mock.url,
        budget: { usd_per_day: 0.01, usd_per_month: 5 },
        // $1000 per MTok either way: the mock's answer (12 in, 5 out) costs $0.017
        prices: { 'claude-sonnet-4-5': { input: 1000, output: 1000 } } } } };
    const ask = (url, extra = {}) => request(`${url}/v1/messages`, { method: 'POST',
      body: body({ model: 'claude-sonnet-4-5' }), ...extra });
    let proxy = await startProxy({ config, env: { ...bedrockEnv(), ...clockAt(12, 0, 0) } });
    try {
      const check = spawnSync(PROXY_BIN, ['--check', '--config', proxy.configPath], { encoding: 'utf8', env: { ...process.env, ...bedrockEnv() } });
      assert.match(check.stdout, new RegExp(`usage ledger: ${config.usage_db} \\(rows kept 90 days\\)\n`));
      assert.match(check.stdout, /\nprovider bedrock: budget \$0\.01\/day budget \$5\.00\/month own prices \(\d+ models\)\n/);
      assert.equal((await ask(proxy.url)).status, 200);
      assert.equal(mock.requests.length, 1);
      let r = await ask(proxy.url);
      assert.equal(r.status, 429, r.text);
      assert.equal(mock.requests.length, 1, 'a provider over budget is not asked');
      const err = JSON.parse(r.text);
      assert.equal(err.type, 'error');
      assert.equal(err.error.type, 'rate_limit_error');
      assert.match(err.error.message, /bedrock reached its daily budget of \$0\.01 \(\$0\.02 spent\), which resets at \d{4}-\d\d-16T00:00:00\+0000/);
      const retry = Number(r.headers['retry-after']);
      assert.ok(Math.abs(retry - 12 * 3600) < 30, `retry-after ${retry}`);
      // in the OpenAI format for OpenAI clients
      r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST',
        body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 429);
      assert.match(JSON.parse(r.text).error.message, /daily budget/);
      const h = JSON.parse((await request(`${proxy.url}/health`)).text).providers[0];
      assert.equal(h.state, 'over_budget');
      assert.match(h.over_budget_until, /^\d{4}-\d\d-16T00:00:00Z$/);
      assert.ok(Math.abs(h.spend.today_usd - 0.017) < 1e-9 && Math.abs(h.spend.month_usd - 0.017) < 1e-9);
      assert.deepEqual({ ...h.budget, over_until: undefined }, { usd_per_day: 0.01, usd_per_month: 5, over_until: undefined });
      assert.equal(h.budget.over_until, h.over_budget_until);
      const metrics = (await request(`${proxy.url}/metrics`)).text;
      assert.match(metrics, /\nclaude_proxy_provider_over_budget\{provider="bedrock"\} 1\n/);
      assert.match(metrics, /\nclaude_proxy_provider_spend_usd\{provider="bedrock",period="day"\} 0\.017000\n/);
      await stopProxy(proxy, assert);
      assert.equal(proxy.output.split('\n').filter((l) => l.includes('bedrock over its daily budget')).length, 1,
        proxy.output);

      // a restart does not reset it: the ledger holds today's spend
      proxy = await startProxy({ config, env: { ...bedrockEnv(), ...clockAt(12, 0, 10) } });
      assert.equal((await ask(proxy.url)).status, 429);
      assert.equal(mock.requests.length, 1);
      await stopProxy(proxy, assert);

      // the day ends: the provider is back, the month's spend carries on
      proxy = await startProxy({ config, env: { ...bedrockEnv(), ...clockAt(23, 59, 55) } });
      assert.equal((await ask(proxy.url)).status, 429);
      const midnight = Date.now() + 5500;
      await sleep(midnight - Date.now());
      for (let i = 0; i < 40 && JSON.parse((await request(`${proxy.url}/health`)).text).providers[0].state !== 'ok'; i++)
        await sleep(100);
      r = await ask(proxy.url);
      assert.equal(r.status, 200, r.text);
      assert.equal(mock.requests.length, 2);
      const after = JSON.parse((await request(`${proxy.url}/health`)).text).providers[0];
      assert.ok(Math.abs(after.spend.today_usd - 0.017) < 1e-9, JSON.stringify(after.spend));
      assert.ok(Math.abs(after.spend.month_usd - 0.034) < 1e-9, JSON.stringify(after.spend));
      await stopProxy(proxy, assert);
      assert.match(proxy.output, /bedrock: within its budget again, back in the chain/);
    } finally {
      if (proxy.child.exitCode === null) await proxy.stop();
      await mock.close();
    }
  });

  test('the subscription is never spend; a provider over budget is skipped for the next one', async () => {
    const up = await startMock(usageHandler());
    const mock = await startBedrockMock();
    const config = { usage_db: path.join(tmpdir('cp-budget-'), 'usage.db'), order: ['bedrock', 'anthropic'],
      providers: {
        bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: mock.url, mantle_endpoint: mock.url,
          budget: { usd_per_month: 0.0001 } },
        anthropic: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN, budget: { usd_per_day: 0.0001 } } } };
    const proxy = await startProxy({ config, env: bedrockEnv() });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-4-5' }) });
        assert.equal(r.status, 200, r.text);
      }
      assert.equal(mock.requests.length, 1, 'Bedrock served until its monthly budget was reached');
      assert.equal(up.requests.length, 2);
      const h = JSON.parse((await request(`${proxy.url}/health`)).text).providers;
      const anthropic = h.find((p) => p.name === 'anthropic');
      assert.equal(anthropic.state, 'ok', 'its value is not spend');
      assert.deepEqual(anthropic.spend, { today_usd: 0, month_usd: 0 });
      assert.equal(h.find((p) => p.name === 'bedrock').state, 'over_budget');
      assert.equal(h.find((p) => p.name === 'bedrock').budget.usd_per_day, null);
    } finally {
      await stopProxy(proxy, assert);
      await up.close(); await mock.close();
    }
  });
});
