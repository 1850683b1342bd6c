// Model ids from the account: the Bedrock provider lists the system-defined inference profiles
// on the control plane (a strict mock: SigV4 for service "bedrock" checked by AWS's signer,
// pages, refusals, slowness) and maps Anthropic names to the profiles the account really has.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startProxy, stopProxy, request, sleep, startMock, anthropicHandler, parseSse, claudeCodeHeaders,
  TEST_DATA } from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, AWS_KEYS, CATALOG } from './lib/bedrock-mock.mjs';
import { startControlPlaneMock, profileIds, DENIED_MESSAGE } from './lib/bedrock-control-mock.mjs';

const body = (model) => ({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

// An account in us-west-2 whose Sonnet 4.5 is only reachable through the global profile, Opus 4.6
// through us and global, and a model the static table does not know.
const ACCOUNT = profileIds({
  'anthropic.claude-sonnet-4-5-20250929-v1:0': ['global'],
  'anthropic.claude-opus-4-6-v1': ['us', 'global'],
  'anthropic.claude-opus-9-9': ['global'],
  'meta.llama4-maverick-17b-instruct-v1:0': ['us'],
});

function bedrockConfig(runtime, control, extra = {}) {
  return { order: ['bedrock'], providers: { bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: runtime.url,
    mantle_endpoint: runtime.mantleUrl, ...(control ? { control_endpoint: control.url } : {}), ...extra } } };
}

async function health(proxy) {
  return (await request(`${proxy.url}/health`)).json.providers.find((p) => p.name === 'bedrock');
}

async function waitFor(fn, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function send(proxy, model) {
  const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(model) });
  return r;
}

describe('model ids from the account', () => {
  const cleanup = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  test('a paginated listing, signed for service bedrock, decides the profile of each model', async () => {
    const runtime = await startBedrockMock({ models: { 'anthropic.claude-opus-9-9': { gen: 'current', profiles: ['global'] } } });
    const control = await startControlPlaneMock({ ids: ACCOUNT, pageSize: 2 });
    const proxy = await startProxy({ config: bedrockConfig(runtime, control), env: bedrockEnv() });
    cleanup.push(() => runtime.close(), () => control.close());
    const h = await waitFor(async () => { const b = await health(proxy); return b.model_ids.source === 'listed' && b; },
      'the listing');
    assert.equal(h.model_ids.profiles, ACCOUNT.length);
    assert.equal(h.model_ids.claude_profiles, ACCOUNT.length - 1);
    assert.match(h.model_ids.listed_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(h.control_endpoint, control.url);
    // three pages, each signed and verified, the token sent back encoded
    assert.equal(control.requests.length, 3);
    for (const r of control.requests) {
      assert.deepEqual(r.verdict, { ok: true });
      assert.equal(r.type, 'SYSTEM_DEFINED');
      assert.equal(r.method, 'GET');
    }
    assert.match(control.requests[1].url, /nextToken=p%2B2%2Fx%3D/);
    for (const [model, url] of [
      // the static table says us. for Sonnet 4.5 in us-west-2: this account has only global.
      ['claude-sonnet-4-5', '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
      ['claude-opus-4-6', '/model/us.anthropic.claude-opus-4-6-v1/invoke'],
      // unknown to the static table (which would guess the region's profile): the listing has it
      ['claude-opus-9-9', '/model/global.anthropic.claude-opus-9-9/invoke'],
      // not in the listing: the static table's choice
      ['claude-haiku-4-5', '/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke'],
    ]) {
      const r = await send(proxy, model);
      assert.equal(r.status, 200, r.text);
      assert.equal(runtime.requests.at(-1).url, url, model);
    }
    assert.match(proxy.output, /listed 5 inference profiles \(4 of Claude models\)/);
    await stopProxy(proxy, assert);
  });

  test('a region where the account has only some profiles: region_prefix, then geography, then global', async () => {
    const ids = profileIds({
      'anthropic.claude-opus-4-6-v1': ['eu', 'global'],
      'anthropic.claude-sonnet-4-5-20250929-v1:0': ['global'],
      'anthropic.claude-haiku-4-5-20251001-v1:0': ['eu'],
    });
    const runtime = await startBedrockMock({ region: 'eu-central-1' });
    const control = await startControlPlaneMock({ ids, region: 'eu-central-1', pageSize: 100 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control, { region: 'eu-central-1',
      region_prefix: 'global' }), env: bedrockEnv({ AWS_REGION: 'eu-central-1' }) });
    await waitFor(async () => (await health(proxy)).model_ids.source === 'listed', 'the listing');
    for (const [model, url] of [
      ['claude-opus-4-6', '/model/global.anthropic.claude-opus-4-6-v1/invoke'], // region_prefix wins
      ['claude-sonnet-4-5', '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
      // no global profile for Haiku in this account: the region's geography
      ['claude-haiku-4-5', '/model/eu.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke'],
    ]) {
      const r = await send(proxy, model);
      assert.equal(r.status, 200, r.text);
      assert.equal(runtime.requests.at(-1).url, url, model);
      assert.deepEqual(runtime.requests.at(-1).verdict, { ok: true });
    }
    await stopProxy(proxy, assert);
  });

  test('a refused listing: the static table, said once in the log and in /health, and serving goes on', async () => {
    const runtime = await startBedrockMock();
    const control = await startControlPlaneMock({ ids: ACCOUNT, refuse: true });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control, { list_profiles_interval: 1 }),
      env: bedrockEnv() });
    const h = await waitFor(async () => { const b = await health(proxy); return b.model_ids.reason && b; }, 'the refusal');
    assert.equal(h.model_ids.source, 'static');
    assert.match(h.model_ids.reason, /403 AccessDeniedException: User: arn:aws:iam::123456789012:user\/test is not authorized/);
    assert.equal(h.state, 'ok', 'a refused listing does not make the provider unavailable');
    for (let i = 0; i < 3; i++) {
      const r = await send(proxy, 'claude-sonnet-4-5');
      assert.equal(r.status, 200, r.text);
      assert.equal(runtime.requests.at(-1).url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    }
    await waitFor(() => control.state.listings >= 2, 'a second (hourly, here every second) listing');
    await sleep(200);
    const lines = proxy.output.split('\n').filter((l) => l.includes('cannot list inference profiles'));
    assert.equal(lines.length, 1, proxy.output);
    assert.match(lines[0], /using the static model table/);
    assert.ok(lines[0].includes(DENIED_MESSAGE.slice(0, 60)));
    await stopProxy(proxy, assert);
  });

  test('a request that arrives while the first listing is in flight waits for it and uses the listed id', async () => {
    const runtime = await startBedrockMock();
    const control = await startControlPlaneMock({ ids: ACCOUNT, pageSize: 100, delayMs: 1500 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control), env: bedrockEnv() });
    const t0 = Date.now();
    const r = await send(proxy, 'claude-sonnet-4-5');
    const waited = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(runtime.requests.at(-1).url, '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    assert.ok(waited >= 700, `it waited for the listing (${waited} ms)`);
    await stopProxy(proxy, assert);
  });

  test('a listing slower than list_profiles_wait: the request goes on with the static id', async () => {
    const runtime = await startBedrockMock();
    const control = await startControlPlaneMock({ ids: ACCOUNT, pageSize: 100, delayMs: 3000 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control, { list_profiles_wait: 0.5 }),
      env: bedrockEnv() });
    const t0 = Date.now();
    const r = await send(proxy, 'claude-sonnet-4-5');
    const waited = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(runtime.requests.at(-1).url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    assert.ok(waited < 2500, `bounded wait (${waited} ms)`);
    assert.match(proxy.output, /listing inference profiles takes longer than 500 ms/);
    // once the listing arrives, it is used
    await waitFor(async () => (await health(proxy)).model_ids.source === 'listed', 'the listing');
    await send(proxy, 'claude-sonnet-4-5');
    assert.equal(runtime.requests.at(-1).url, '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    await stopProxy(proxy, assert);
  });

  // Bedrock answers an id the account does not have (any more) as Bedrock does.
  const refuseIds = (ids) => (record) => (ids.some((id) => record.url.includes(`/model/${encodeURIComponent(id)}/`))
    ? (req, res) => {
      res.writeHead(400, { 'content-type': 'application/json',
        'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
      res.end(JSON.stringify({ message: 'The provided model identifier is invalid.' }));
    } : null);

  test('an id Bedrock refuses as invalid: the listing is refreshed and the request retried with the new id', async () => {
    const stale = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const runtime = await startBedrockMock({ behaviour: refuseIds([stale]) });
    const control = await startControlPlaneMock({ ids: [stale], pageSize: 100 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control), env: bedrockEnv() });
    await waitFor(async () => (await health(proxy)).model_ids.source === 'listed', 'the listing');
    // the account's us. profile is gone since; it has the global one now
    control.state.ids = ['global.anthropic.claude-sonnet-4-5-20250929-v1:0'];
    const r = await send(proxy, 'claude-sonnet-4-5');
    assert.equal(r.status, 200, r.text);
    const urls = runtime.requests.map((q) => q.url);
    assert.deepEqual(urls, ['/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke',
      '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke']);
    assert.equal(control.state.listings, 2, 'one listing at start, one after the refusal');
    assert.match(proxy.output, /Bedrock refused us\.anthropic\.claude-sonnet-4-5-20250929-v1:0 as invalid .*once more after listing/);
    // the route stays InvokeModel: the next request goes straight to the new id
    await send(proxy, 'claude-sonnet-4-5');
    assert.equal(runtime.requests.at(-1).url, '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    await stopProxy(proxy, assert);
  });

  test('a refused id the fresh listing still names: the next route, and no second refresh within a minute', async () => {
    const ids = ['us.anthropic.claude-sonnet-5-5', 'us.anthropic.claude-opus-5-5'];
    const runtime = await startBedrockMock({ behaviour: refuseIds(ids) });
    const control = await startControlPlaneMock({ ids, pageSize: 100 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control), env: bedrockEnv() });
    await waitFor(async () => (await health(proxy)).model_ids.source === 'listed', 'the listing');
    let r = await send(proxy, 'claude-sonnet-5-5');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(runtime.requests.map((q) => q.url), ['/model/us.anthropic.claude-sonnet-5-5/invoke',
      '/anthropic/v1/messages'], 'InvokeModel once (the same id is not sent twice), then the runtime Messages route');
    assert.equal(runtime.requests[1].json.model, 'us.anthropic.claude-sonnet-5-5');
    assert.equal(control.state.listings, 2);
    // another model refused as invalid 1 s later: no new listing (at most one a minute), the next route at once
    r = await send(proxy, 'claude-opus-5-5');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(runtime.requests.slice(2).map((q) => q.url), ['/model/us.anthropic.claude-opus-5-5/invoke',
      '/anthropic/v1/messages']);
    assert.equal(control.state.listings, 2);
    await stopProxy(proxy, assert);
  });

  test('the listing is refreshed on its interval (hourly by default) and the new ids are used', async () => {
    const runtime = await startBedrockMock();
    const control = await startControlPlaneMock({ ids: ACCOUNT, pageSize: 100 });
    cleanup.push(() => runtime.close(), () => control.close());
    const proxy = await startProxy({ config: bedrockConfig(runtime, control, { list_profiles_interval: 1 }),
      env: bedrockEnv({ AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENsecretvalue0123456789' }) });
    await waitFor(async () => (await health(proxy)).model_ids.source === 'listed', 'the listing');
    let r = await send(proxy, 'claude-sonnet-4-5');
    assert.equal(runtime.requests.at(-1).url, '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    // the account gains the us profile
    control.state.ids = [...ACCOUNT, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'];
    const before = control.state.listings;
    await waitFor(() => control.state.listings > before, 'the next listing', 4000);
    await waitFor(async () => (await health(proxy)).model_ids.profiles === ACCOUNT.length + 1, 'the new listing');
    r = await send(proxy, 'claude-sonnet-4-5');
    assert.equal(r.status, 200, r.text);
    assert.equal(runtime.requests.at(-1).url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    for (const rec of control.requests) assert.deepEqual(rec.verdict, { ok: true });
    await stopProxy(proxy, assert);
    // nothing secret in the log, at debug level
    for (const secret of [AWS_KEYS.secretAccessKey, 'EXAMPLESESSIONTOKENsecretvalue', 'Signature=']) {
      assert.ok(!proxy.output.includes(secret), `log leaks ${secret}`);
    }
  });
});

// Issue 11's "done when", in one setup: Claude Code's real request (its ~116 KB body with the
// JSON metadata.user_id of its direct mode) meets Anthropic's plan limit and falls back to
// Bedrock in eu-central-1, where the account has only some inference profiles and the listing
// decides the id; every current model family is accepted the first time on InvokeModel (the
// route Claude Code's own Bedrock mode uses), and a model InvokeModel does not serve goes to the
// next route, which the process then remembers.
const CC_USER_ID = JSON.stringify({ device_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f',
  account_uuid: '5c1b0a2e-4d3f-4e6a-9b8c-7d6e5f4a3b2c', session_id: '3f1c2a9e-0000-4000-8000-000000000001' });

// the quota headers of a plan limit (data/quota/rejected-5h.headers), resets moved into the future
function planLimitHeaders() {
  const headers = {};
  for (const line of fs.readFileSync(path.join(TEST_DATA, 'quota', 'rejected-5h.headers'), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const epochs = Object.values(headers).filter((v) => /^\d{10}$/.test(v)).map(Number);
  const delta = Math.floor(Date.now() / 1000) + 7835 - Math.min(...epochs);
  for (const [k, v] of Object.entries(headers)) if (/^\d{10}$/.test(v)) headers[k] = String(Number(v) + delta);
  return headers;
}

// This account in eu-central-1: model -> [base id, the profiles it lists] (null: not listed, the static
// table decides, which in an eu- region is the eu. profile)
const EU_ACCOUNT = {
  'claude-opus-5-5': ['anthropic.claude-opus-5-5', ['global']],
  'claude-sonnet-5-5': ['anthropic.claude-sonnet-5-5', ['eu']],
  'claude-haiku-5-5': ['anthropic.claude-haiku-5-5', null],
  'claude-fable-5-2': ['anthropic.claude-fable-5-2', ['global']],
  'claude-fable-5-1': ['anthropic.claude-fable-5-1', null],
  'claude-fable-5': ['anthropic.claude-fable-5', null],
  'claude-opus-5': ['anthropic.claude-opus-5', null],
  'claude-opus-4-8': ['anthropic.claude-opus-4-8', ['global']],
  'claude-opus-4-7': ['anthropic.claude-opus-4-7', null],
  'claude-opus-4-6': ['anthropic.claude-opus-4-6-v1', ['eu', 'global']], // geography before global
  'claude-sonnet-4-6': ['anthropic.claude-sonnet-4-6', null],
  'claude-sonnet-4-5-20250929': ['anthropic.claude-sonnet-4-5-20250929-v1:0', ['global']], // static: eu.
  'claude-haiku-4-5': ['anthropic.claude-haiku-4-5-20251001-v1:0', ['eu']],
  // the model whose InvokeModel this account lacks: route fallback
  'claude-sonnet-5': ['anthropic.claude-sonnet-5', ['global']],
};
const FALLBACK_MODEL = 'claude-sonnet-5';

describe('issue 11: Claude Code\'s real request falls back to Bedrock where the account has only some profiles', () => {
  test('every current family accepted the first time on InvokeModel with the listed (else static) id; route fallback remembered', async () => {
    const t0 = Date.now();
    const real = { ...JSON.parse(fs.readFileSync(path.join(TEST_DATA, 'claude-code-request.json'))),
      metadata: { user_id: CC_USER_ID } };
    assert.ok(JSON.stringify(real).length > 100000, 'the real ~116 KB request');
    const quota = planLimitHeaders();
    const limitBody = fs.readFileSync(path.join(TEST_DATA, 'quota', 'plan-limit-429.body'), 'utf8').trim();
    const anthropic = await startMock((req, res) => { res.writeHead(429, quota); res.end(limitBody); });
    const listed = Object.values(EU_ACCOUNT).filter(([, p]) => p);
    const ids = profileIds(Object.fromEntries(listed));
    // Bedrock itself holds the account's profiles: a listed model has only those (a static eu.
    // guess for Opus 5.5 would be refused), an unlisted one keeps the catalog's
    const models = Object.fromEntries(listed.map(([base, p]) => [base, { ...CATALOG[base], profiles: p }]));
    const fallbackBase = EU_ACCOUNT[FALLBACK_MODEL][0];
    const bedrock = await startBedrockMock({ region: 'eu-central-1', models,
      invokeLineup: Object.keys(CATALOG).filter((id) => id !== fallbackBase) });
    const control = await startControlPlaneMock({ ids, region: 'eu-central-1', pageSize: 4 });
    const proxy = await startProxy({ env: bedrockEnv({ AWS_REGION: 'eu-central-1' }), config: {
      order: ['anthropic', 'bedrock'], providers: {
        anthropic: { type: 'anthropic', base_url: anthropic.url },
        bedrock: { type: 'bedrock', region: 'eu-central-1', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl,
          control_endpoint: control.url } } } });
    const table = [];
    const post = (model, stream) => request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST',
      body: JSON.stringify({ ...real, model, stream }), headers: claudeCodeHeaders(), timeout: 30000 });
    const textOf = (r, stream) => (stream
      ? parseSse(r.text).filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('')
      : r.json.content.map((c) => c.text).join(''));
    try {
      for (const [model, [base, profiles]] of Object.entries(EU_ACCOUNT)) {
        if (model === FALLBACK_MODEL) continue;
        const want = `${profiles ? (profiles.includes('eu') ? 'eu' : 'global') : 'eu'}.${base}`;
        for (const stream of [true, false]) {
          const before = bedrock.requests.length;
          const r = await post(model, stream);
          const up = bedrock.requests[before];
          const what = `${model} stream=${stream}`;
          assert.equal(r.status, 200, `${what}: ${r.text.slice(0, 300)} ${JSON.stringify(up && (up.refused || up.url))}`);
          assert.equal(bedrock.requests.length, before + 1, `${what}: accepted the first time`);
          assert.deepEqual(up.verdict, { ok: true }, what);
          assert.ok(up.accepted, `${what}: ${JSON.stringify(up.refused)}`);
          assert.equal(up.accepted.route, 'invoke', what);
          assert.ok(up.accepted.served.startsWith(model.replace(/-\d{8}$/, '')), `${what}: served ${up.accepted.served}`);
          const op = stream ? 'invoke-with-response-stream' : 'invoke';
          assert.equal(up.url, `/model/${encodeURIComponent(want)}/${op}`, `${what}: ${profiles ? 'the listed' : 'the static'} id`);
          if (stream) {
            assert.match(r.headers['content-type'], /^text\/event-stream/);
            const evs = parseSse(r.text);
            assert.equal(evs[0].event, 'message_start', what);
            assert.equal(evs.at(-1).event, 'message_stop', what);
          } else {
            assert.match(r.headers['content-type'], /^application\/json/);
            assert.equal(r.json.type, 'message', what);
          }
          assert.equal(textOf(r, stream), 'Hello from Bedrock', what);
          const j = up.json;
          assert.equal(j.metadata.user_id, CC_USER_ID, `${what}: InvokeModel takes the JSON user_id as it is`);
          for (const k of ['tools', 'system', 'messages']) assert.deepEqual(j[k], real[k], `${what}: ${k} untouched`);
          if (stream) table.push([model, 'invoke', want, profiles ? `listed ${profiles.join('+')}` : 'static']);
        }
      }
      assert.equal(anthropic.requests.length, 1, 'Anthropic asked once, then cooling at its plan limit');
      assert.match(proxy.output, /anthropic at its plan limit \(429, 5h window rejected; cooldown 7835s from retry-after\), using bedrock until/);
      const h = (await request(`${proxy.url}/health`)).json.providers.find((p) => p.name === 'bedrock');
      assert.equal(h.model_ids.source, 'listed');
      assert.equal(h.model_ids.profiles, ids.length);
      assert.ok(control.requests.every((q) => q.verdict.ok && q.type === 'SYSTEM_DEFINED'));
      const listings = control.state.listings;
      assert.equal(listings, 1);

      // route fallback, same proxy: InvokeModel refuses Sonnet 5 for this account (the listed id,
      // refused as invalid: one fresh listing names it still), so the runtime Messages route serves
      // the real body with the listed profile id in it
      const fbId = `global.${fallbackBase}`;
      let before = bedrock.requests.length;
      let r = await post(FALLBACK_MODEL, true);
      assert.equal(r.status, 200, r.text.slice(0, 300));
      const tried = bedrock.requests.slice(before);
      assert.deepEqual(tried.map((q) => `${q.host} ${q.url}`),
        [`runtime /model/${encodeURIComponent(fbId)}/invoke-with-response-stream`, 'runtime /anthropic/v1/messages']);
      assert.match(tried[0].refused.message, /model identifier is invalid/);
      assert.ok(tried.every((q) => q.verdict.ok));
      const served = tried[1];
      assert.equal(served.accepted.route, 'runtime');
      assert.equal(served.json.model, fbId);
      for (const k of ['tools', 'system', 'messages', 'thinking', 'output_config', 'context_management']) {
        assert.deepEqual(served.json[k], real[k], `${k} untouched on the runtime route`);
      }
      assert.equal(served.json.metadata.user_id, crypto.createHash('sha256').update(CC_USER_ID).digest('hex'),
        'the Messages route gets the stable hash of the JSON user_id');
      assert.equal(textOf(r, true), 'Hello from Bedrock runtime');
      assert.equal(parseSse(r.text).at(-1).event, 'message_stop');
      assert.match(proxy.output, /Bedrock refused global\.anthropic\.claude-sonnet-5 as invalid \(400 ValidationException: The provided model identifier is invalid\.\); once more after listing/);
      assert.equal(control.state.listings, listings + 1, 'the refused id refreshed the listing once');
      // remembered: the next request goes straight to the runtime route
      before = bedrock.requests.length;
      r = await post(FALLBACK_MODEL, true);
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.deepEqual(bedrock.requests.slice(before).map((q) => `${q.host} ${q.url}`), ['runtime /anthropic/v1/messages']);
      assert.equal(bedrock.requests.at(-1).json.model, fbId);
      assert.ok(bedrock.requests.at(-1).accepted);
      const remembered = (await request(`${proxy.url}/health`)).json.providers.find((p) => p.name === 'bedrock')
        .routes.find((x) => x.model === FALLBACK_MODEL);
      assert.equal(remembered.region, 'eu-central-1');
      assert.equal(remembered.invoke, 'refused: 400 ValidationException: The provided model identifier is invalid.');
      assert.match(proxy.output, /bedrock: route invoke does not serve claude-sonnet-5 in eu-central-1 \(400 ValidationException: The provided model identifier is invalid\.; the fresh listing still names global\.anthropic\.claude-sonnet-5\); trying runtime/);
      assert.equal(remembered.runtime, `serves: ${fbId}`);
      table.push([FALLBACK_MODEL, 'invoke refused -> runtime (remembered)', fbId, 'listed global']);
      assert.equal(anthropic.requests.length, 1);

      console.log('# eu-central-1, account listing some profiles: model -> route -> id');
      for (const [model, route, id, source] of table) console.log(`# ${model.padEnd(27)} ${route.padEnd(8)} ${id}  (${source})`);
      console.log(`# ${Object.keys(EU_ACCOUNT).length} models, ${bedrock.requests.length} Bedrock requests, ${Date.now() - t0} ms`);
    } finally {
      await stopProxy(proxy, assert);
      await anthropic.close(); await bedrock.close(); await control.close();
    }
  });
});
