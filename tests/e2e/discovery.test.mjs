// Model ids from the account: the Bedrock provider lists the system-defined inference profiles
// on the control plane (a strict mock: SigV4 for service "bedrock" checked by AWS's signer,
// pages, refusals, slowness) and maps Anthropic names to the profiles the account really has.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, stopProxy, request, sleep, startMock, anthropicHandler } from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, AWS_KEYS } from './lib/bedrock-mock.mjs';
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
