// Anthropic's quota headers end to end: read on every answer into /health (and route()), relayed
// unchanged, and the fallback decided by what a 429 means: a plan limit cools until the rejected
// window's reset, a throttle only for seconds, "extra usage is required" not at all; and
// extra_usage = "avoid". The header sets are the captured ones of tests/data/quota (README.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMock, startProxy, stopProxy, request, anthropicHandler, OAUTH_TOKEN, TEST_DATA, sleep }
  from './lib/harness.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });

// A captured header set; with `shift`, its epoch times move so that the earliest is `shift`
// seconds from now (differences kept), as if it had been captured just now.
export function headerSet(name, { shift = null } = {}) {
  const text = fs.readFileSync(path.join(TEST_DATA, 'quota', `${name}.headers`), 'utf8');
  const headers = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  if (shift !== null) {
    const epochs = Object.values(headers).filter((v) => /^\d{10}$/.test(v)).map(Number);
    const delta = Math.floor(Date.now() / 1000) + shift - Math.min(...epochs);
    for (const [k, v] of Object.entries(headers)) if (/^\d{10}$/.test(v)) headers[k] = String(Number(v) + delta);
  }
  return headers;
}
export const errorBody = (name) => fs.readFileSync(path.join(TEST_DATA, 'quota', `${name}.body`), 'utf8').trim();

function answer(status, headers, text) {
  return (req, res) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(text); };
}

// An Anthropic mock answering 200 with the given quota headers (its own content type kept).
function okWith(set, text = 'Hello there') {
  const { 'content-type': _, ...headers } = set;
  const inner = anthropicHandler({ text });
  return (req, res, b) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (status, h) => writeHead(status, { ...h, ...headers });
    return inner(req, res, b);
  };
}

async function switchable(initial) {
  let current = initial;
  const mock = await startMock((req, res, b, rec) => current(req, res, b, rec));
  mock.set = (h) => { current = h; };
  return mock;
}

function twoProviders(primary, backup, primaryExtra = {}, extra = {}) {
  return {
    order: ['primary', 'backup'],
    providers: {
      primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN, cooldown: 300, ...primaryExtra },
      backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN },
    },
    cooldown_max: 86400,
    ...extra,
  };
}

const post = (proxy, extra) => request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(extra) });
const health = async (proxy) => (await request(`${proxy.url}/health`)).json;
const providerState = async (proxy, name) => (await health(proxy)).providers.find((p) => p.name === name);

describe('quota headers', () => {
  test('a 200\'s headers reach the client unchanged and /health shows every window, extra usage, last seen', async () => {
    const set = headerSet('allowed-warning-fable', { shift: 3600 });
    const primary = await startMock(okWith(set));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const before = Math.floor(Date.now() / 1000);
      const r = await post(proxy, { stream: true });
      assert.equal(r.status, 200);
      for (const [k, v] of Object.entries(set)) if (k.startsWith('anthropic-')) assert.equal(r.headers[k], v, k);
      const q = (await providerState(proxy, 'primary')).quota;
      assert.equal(q.status, 'allowed_warning');
      assert.equal(q.representative_claim, 'seven_day_overage_included');
      assert.ok(q.last_seen_epoch >= before && q.last_seen_epoch <= before + 5, JSON.stringify(q));
      assert.equal(new Date(q.last_seen).getTime() / 1000, q.last_seen_epoch);
      assert.deepEqual(Object.keys(q.windows).sort(), ['5h', '7d', '7d_oi']);
      const oi = q.windows['7d_oi'];
      assert.equal(oi.utilization, 0.78);
      assert.equal(oi.status, 'allowed_warning');
      assert.equal(oi.reset, Number(set['anthropic-ratelimit-unified-7d_oi-reset']));
      assert.equal(new Date(oi.reset_at).getTime() / 1000, oi.reset, 'ISO 8601 and epoch agree');
      assert.equal(q.windows['5h'].utilization, 0.42);
      assert.equal(q.extra_usage, undefined, 'this answer said nothing of extra usage');
      assert.equal((await providerState(proxy, 'backup')).quota, undefined, 'no headers, no quota');

    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('state merges across answers: a model window stated once stays beside later 5h/7d ones', async () => {
    const primary = await switchable(okWith(headerSet('allowed-warning-fable', { shift: 3600 })));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      await post(proxy);
      primary.set(okWith(headerSet('allowed', { shift: 3600 })));
      await post(proxy);
      const q = (await providerState(proxy, 'primary')).quota;
      assert.equal(q.status, 'allowed');
      assert.equal(q.windows['7d_oi'].utilization, 0.78, 'kept');
      assert.equal(q.windows['5h'].utilization, 0.13, 'updated');
      assert.equal(q.extra_usage.status, 'rejected');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});

describe('what a 429 means decides the fallback', () => {
  test('plan limit without retry-after: cools until the rejected window\'s reset, not the configured cooldown', async () => {
    const set = headerSet('rejected-7d_oi-no-retry-after', { shift: 3600 }); // 5h resets in 1 h, 7d_oi in 15.3 h
    const primary = await startMock(answer(429, set, errorBody('plan-limit-429')));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      const r = await post(proxy);
      assert.equal(r.status, 200);
      assert.equal(r.json.content[0].text, 'from backup');
      const st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'cooling');
      const want = Number(set['anthropic-ratelimit-unified-7d_oi-reset']) - Math.floor(Date.now() / 1000);
      assert.ok(Math.abs(st.cooling_seconds_left - want) <= 3, `${st.cooling_seconds_left} vs ${want}`);
      assert.match(st.reason, /at its plan limit \(429, 7d_oi window rejected; cooldown \d+s from anthropic-ratelimit-unified-7d_oi-reset\)/);
      assert.equal(st.quota.status, 'rejected');
      assert.equal(st.quota.windows['7d_oi'].status, 'rejected');
      assert.match(proxy.output, /warn +primary at its plan limit \(429, 7d_oi window rejected.*using backup until/);
      await post(proxy);
      assert.equal(primary.requests.length, 1, 'skipped while at its plan limit');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('plan limit with retry-after: retry-after is the cooldown', async () => {
    const set = headerSet('rejected-5h', { shift: 7835 });
    const primary = await startMock(answer(429, set, errorBody('plan-limit-429')));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      assert.equal((await post(proxy)).status, 200);
      const st = await providerState(proxy, 'primary');
      assert.ok(st.cooling_seconds_left > 7830 && st.cooling_seconds_left <= 7835, JSON.stringify(st));
      assert.match(st.reason, /at its plan limit \(429, 5h window rejected; cooldown 7835s from retry-after\)/);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('throttle (429 without quota headers): this request falls back, the provider cools seconds only', async () => {
    const primary = await switchable(answer(429, headerSet('throttle-429'), errorBody('throttle-429')));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup, { throttle_cooldown: 1 }) });
    try {
      const r = await post(proxy, { stream: true });
      assert.equal(r.status, 200);
      assert.match(r.text, /from/);
      const st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'cooling');
      assert.ok(st.cooling_seconds_left <= 1, `throttle_cooldown, never the 300 s cooldown: ${JSON.stringify(st)}`);
      assert.match(st.reason, /throttled \(429, not the plan limit; cooldown 1s from throttle_cooldown\)/);
      assert.match(proxy.output, /warn +primary throttled \(429/);
      assert.doesNotMatch(proxy.output, /at its plan limit/);
      primary.set(anthropicHandler({ text: 'primary again' }));
      await sleep(1100);
      assert.equal((await post(proxy)).json.content[0].text, 'primary again');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('throttle with retry-after: cools for retry-after; the default throttle_cooldown is 5 s', async () => {
    const primary = await startMock(answer(429, { 'retry-after': '7' }, errorBody('throttle-429')));
    const backup = await startMock(anthropicHandler());
    let proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      await post(proxy);
      const st = await providerState(proxy, 'primary');
      assert.ok(st.cooling_seconds_left > 5 && st.cooling_seconds_left <= 7, JSON.stringify(st));
      assert.match(st.reason, /from retry-after/);
    } finally { await stopProxy(proxy, assert); }
    const bare = await startMock(answer(429, {}, errorBody('throttle-429')));
    proxy = await startProxy({ config: twoProviders(bare, backup) });
    try {
      await post(proxy);
      const st = await providerState(proxy, 'primary');
      assert.ok(st.cooling_seconds_left > 3 && st.cooling_seconds_left <= 5, JSON.stringify(st));
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await bare.close(); await backup.close();
    }
  });

  test('"extra usage is required" (429 or 400): that request falls back, no cooldown', async () => {
    const quotaOk = headerSet('allowed', { shift: 3600 });
    const primary = await switchable(answer(429, quotaOk, errorBody('extra-usage-required-429')));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      let r = await post(proxy, { stream: true });
      assert.equal(r.status, 200);
      assert.match(r.text, /backup/);
      let st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'ok', 'no cooldown');
      assert.equal(st.fallbacks, 1);
      assert.match(proxy.output, /warn +primary: extra usage is required for this request \(429\); it goes to backup, no cooldown/);
      primary.set(answer(400, {}, errorBody('out-of-extra-usage-400')));
      r = await post(proxy);
      assert.equal(r.json.content[0].text, 'from backup');
      assert.equal(primary.requests.length, 2, 'asked again: it was not cooling');
      assert.match(proxy.output, /extra usage is required for this request \(400\)/);
      st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'ok');
      // any other 400 is the client's error: relayed as it is, nothing falls back
      primary.set(answer(400, { 'x-upstream': 'primary' }, '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}}'));
      r = await post(proxy);
      assert.equal(r.status, 400);
      assert.equal(r.json.error.message, 'max_tokens: too big');
      assert.equal(r.headers['x-upstream'], 'primary', 'headers relayed');
      assert.equal(backup.requests.length, 2);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('fallback_on names the kinds: without "throttle" a throttle is relayed; without "extra_usage_required" too', async () => {
    const primary = await switchable(answer(429, { 'retry-after': '3' }, errorBody('throttle-429')));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup, { fallback_on: ['plan_limit', 'connect'] }) });
    try {
      let r = await post(proxy);
      assert.equal(r.status, 429, 'relayed');
      assert.equal(r.headers['retry-after'], '3');
      assert.equal(r.json.error.type, 'overloaded_error', 'the upstream\'s own body');
      assert.equal((await providerState(proxy, 'primary')).state, 'ok', 'not cooled');
      primary.set(answer(429, {}, errorBody('extra-usage-required-429')));
      r = await post(proxy);
      assert.equal(r.status, 429);
      assert.match(r.json.error.message, /Extra usage is required/);
      primary.set(answer(429, headerSet('rejected-5h', { shift: 100 }), errorBody('plan-limit-429')));
      r = await post(proxy);
      assert.equal(r.status, 200, 'the plan limit still falls back');
      assert.equal(backup.requests.length, 1);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('the last provider relays its own 429 (a throttle still cools it briefly)', async () => {
    const only = await startMock(answer(429, { 'retry-after': '2' }, errorBody('throttle-429')));
    const proxy = await startProxy({ config: { order: ['primary'], providers: {
      primary: { type: 'anthropic', base_url: only.url, token: OAUTH_TOKEN } } } });
    try {
      const r = await post(proxy);
      assert.equal(r.status, 429);
      assert.equal(r.reason, 'Too Many Requests');
      assert.equal(r.headers['retry-after'], '2');
      assert.equal(r.json.error.type, 'overloaded_error');
      assert.equal((await providerState(proxy, 'primary')).state, 'cooling');
    } finally {
      await stopProxy(proxy, assert);
      await only.close();
    }
  });
});

describe('extra_usage = "avoid"', () => {
  test('an answer served as extra usage is relayed; then the provider is at its plan limit until the reset', async () => {
    const set = headerSet('overage-in-use', { shift: 5000 });
    const primary = await startMock(okWith(set, 'billed as extra usage'));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: twoProviders(primary, backup, { extra_usage: 'avoid' }) });
    try {
      let r = await post(proxy);
      assert.equal(r.json.content[0].text, 'billed as extra usage', 'already served: relayed');
      assert.equal(r.headers['anthropic-ratelimit-unified-overage-in-use'], 'true');
      const st = await providerState(proxy, 'primary');
      assert.equal(st.state, 'cooling');
      assert.ok(Math.abs(st.cooling_seconds_left - 5000) <= 3, JSON.stringify(st));
      assert.match(st.reason, /served as extra usage, which extra_usage = "avoid" refuses/);
      assert.equal(st.quota.extra_usage.in_use, true);
      r = await post(proxy);
      assert.equal(r.json.content[0].text, 'from backup');
      assert.equal(primary.requests.length, 1);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('with "use" (the default) extra usage keeps serving', async () => {
    const primary = await startMock(okWith(headerSet('overage-in-use', { shift: 5000 })));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: twoProviders(primary, backup) });
    try {
      await post(proxy);
      await post(proxy);
      assert.equal(primary.requests.length, 2);
      assert.equal((await providerState(proxy, 'primary')).state, 'ok');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});

describe('route(req) sees the quota', () => {
  test('Haiku moves to the backup once the 5h window is above 80%; other models stay', async () => {
    const now = Math.floor(Date.now() / 1000);
    const primary = await switchable(okWith({ 'anthropic-ratelimit-unified-status': 'allowed',
      'anthropic-ratelimit-unified-5h-utilization': '0.5', 'anthropic-ratelimit-unified-5h-reset': String(now + 600) }));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    // the example of etc/claude-proxy.lua, with these providers' names
    const route = `function(req)
      local q = req.quota.primary
      local five = q and q.windows["5h"]
      local near = q and (q.status == "allowed_warning" or (five and (five.utilization or 0) >= 0.8))
      proxy.log(string.format("route: backup quota %s, 5h %s reset %s", tostring(req.quota.backup),
        five and tostring(five.utilization) or "-", five and tostring(five.reset) or "-"))
      if near and req.model:match("haiku") then return { "backup", "primary" } end
    end`;
    const proxy = await startProxy({ config: { ...twoProviders(primary, backup), route: { lua: route } } });
    try {
      const haiku = { model: 'claude-haiku-5-5' };
      assert.equal((await post(proxy, haiku)).json.content[0].text, 'Hello there', 'nothing known: primary');
      assert.equal((await post(proxy, haiku)).json.content[0].text, 'Hello there', '50%: primary');
      assert.match(proxy.output, new RegExp(`route: backup quota nil, 5h 0.5 reset ${now + 600}`));
      primary.set(okWith({ 'anthropic-ratelimit-unified-status': 'allowed',
        'anthropic-ratelimit-unified-5h-utilization': '0.85' }));
      await post(proxy);
      assert.equal((await post(proxy, haiku)).json.content[0].text, 'from backup', '85%: Haiku to the backup');
      assert.equal((await post(proxy)).json.content[0].text, 'Hello there', 'Sonnet stays');
      primary.set(okWith({ 'anthropic-ratelimit-unified-status': 'allowed_warning',
        'anthropic-ratelimit-unified-5h-utilization': '0.1' }));
      await post(proxy);
      assert.equal((await post(proxy, haiku)).json.content[0].text, 'from backup', 'allowed_warning: to the backup');
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});
