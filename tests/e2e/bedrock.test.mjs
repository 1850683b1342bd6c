// The Bedrock provider end to end: the real binary against a mock Bedrock that verifies SigV4
// with AWS's signer and encodes event-streams with AWS's codec; the official SDK as the client.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import {
  startMock, startProxy, stopProxy, request, parseSse, sleep, OAUTH_TOKEN, TEST_DATA, claudeCodeHeaders, tmpdir,
  freePort,
} from './lib/harness.mjs';
import crypto from 'node:crypto';
import { startBedrockMock, bedrockEnv, chunkFrame, exceptionFrame, answerEvents, AWS_KEYS, CATALOG, signatureOf } from './lib/bedrock-mock.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });
// a count_tokens request, which has no max_tokens
const countBody = (extra = {}) => { const { max_tokens: _, ...b } = body(extra); return b; };
const realRequest = () => JSON.parse(fs.readFileSync(path.join(TEST_DATA, 'claude-code-request.json')));

function bedrockOnly(mock, extra = {}) {
  return { order: ['bedrock'], providers: { bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: mock.url,
    mantle_endpoint: mock.mantleUrl, ...extra } } };
}

describe('requests to Bedrock', () => {
  let mock, proxy, client;
  before(async () => {
    mock = await startBedrockMock({ delayMs: 2 });
    proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
    client = new Anthropic({ authToken: OAUTH_TOKEN, apiKey: null, baseURL: proxy.url, maxRetries: 0 });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  test('non-streaming: InvokeModel, signed, with the body Bedrock expects', async () => {
    const msg = await client.messages.create(body({ system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }] }),
      { headers: { 'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,tool-examples-2025-10-29' } });
    assert.equal(msg.content[0].text, 'Hello from Bedrock');
    const up = mock.requests.at(-1);
    assert.deepEqual(up.verdict, { ok: true }, 'signature verified by @smithy/signature-v4');
    assert.equal(up.url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    assert.equal(up.json.anthropic_version, 'bedrock-2023-05-31');
    assert.equal(up.json.model, undefined);
    assert.equal(up.json.stream, undefined);
    // the defaults are lua/models.lua's list (this config sets none)
    assert.deepEqual(up.json.anthropic_beta, ['interleaved-thinking-2025-05-14', 'tool-examples-2025-10-29']);
    assert.deepEqual(up.json.system, [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }]);
    assert.equal(up.headers['x-api-key'], undefined);
    assert.ok(!JSON.stringify(up.headers).includes('sk-ant'), 'no client credential goes to AWS');
    assert.equal(up.headers['anthropic-beta'], undefined);
    assert.equal(up.headers['anthropic-version'], undefined);
    assert.ok(up.headers['x-amz-content-sha256']);
  });

  test('streaming: event-stream frames become the SSE the SDK expects, incrementally', async () => {
    const stream = client.messages.stream(body());
    const deltas = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    assert.equal(deltas.join(''), 'Hello from Bedrock');
    assert.ok(deltas.length >= 3);
    assert.equal(final.stop_reason, 'end_turn');
    const up = mock.requests.at(-1);
    assert.equal(up.url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream');
    assert.deepEqual(up.verdict, { ok: true });
  });

  test('model names map to Bedrock ids (aliases, undated ids without :0, Bedrock-form passthrough)', async () => {
    for (const [model, url] of [
      ['claude-opus-4-6', '/model/us.anthropic.claude-opus-4-6-v1/invoke'],
      ['claude-haiku-4-5', '/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke'],
      ['us.anthropic.claude-sonnet-4-20250514-v1:0', '/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke'],
      ['claude-opus-5-5', '/model/us.anthropic.claude-opus-5-5/invoke'],
      ['claude-fable-5-2', '/model/us.anthropic.claude-fable-5-2/invoke'],
      ['claude-future-9', '/model/us.anthropic.claude-future-9/invoke'], // by rule (the mock does not know it)
    ]) {
      const before = mock.requests.length;
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model }) });
      const first = mock.requests[before];
      assert.equal(first.url, url);
      assert.deepEqual(first.verdict, { ok: true });
      if (model === 'claude-future-9') continue; // tried on every route, refused by each: Bedrock's answer
      assert.equal(r.status, 200, r.text);
      assert.equal(mock.requests.length, before + 1, 'served by the first route');
    }
  });

  test('the current generation goes to InvokeModel with its profile id, as Claude Code\'s Bedrock mode sends it', async () => {
    const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body: body({ model: 'claude-sonnet-5-5',
      stream: true, thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'medium' },
      max_tokens: 128000 }),
    headers: { 'anthropic-beta': 'oauth-2025-04-20,interleaved-thinking-2025-05-14,effort-2025-11-24' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(parseSse(r.text).at(-1).event, 'message_stop');
    const up = mock.requests.at(-1);
    assert.equal(up.url, '/model/us.anthropic.claude-sonnet-5-5/invoke-with-response-stream');
    assert.deepEqual(up.verdict, { ok: true });
    assert.ok(up.accepted, JSON.stringify(up.refused));
    assert.deepEqual(up.json.anthropic_beta, ['interleaved-thinking-2025-05-14', 'effort-2025-11-24']);
    assert.deepEqual(up.json.thinking, { type: 'adaptive', display: 'omitted' });
    assert.deepEqual(up.json.output_config, { effort: 'medium' });
  });

  test('count_tokens uses CountTokens and answers in Anthropic form', async () => {
    const r = await request(`${proxy.url}/v1/messages/count_tokens`, { method: 'POST', body: countBody() });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { input_tokens: 77 });
    const up = mock.requests.at(-1);
    assert.equal(up.url, '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens');
    const inner = JSON.parse(Buffer.from(up.json.input.invokeModel.body, 'base64').toString());
    assert.equal(inner.anthropic_version, 'bedrock-2023-05-31');
    assert.equal(inner.messages[0].content, 'Say hello');
    assert.equal(inner.max_tokens, 1, 'an InvokeModel body needs max_tokens; a count request has none');
  });

  test('an unknown model is a 400, not a made-up Bedrock id', async () => {
    const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'gpt-4o' }) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, /gpt-4o/);
  });
});

describe('tool use through Bedrock', () => {
  test('streamed tool_use arrives as the SDK expects; the tool result goes back in the next request', async () => {
    const toolEvents = [
      { type: 'message_start', message: { id: 'msg_tool', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
        content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 30, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_b1', name: 'Read', input: {} } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"file_path":' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ' "/etc/hosts"}' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 15 } },
      { type: 'message_stop' },
    ];
    const mock = await startBedrockMock({ behaviour: (rec) => rec.url.endsWith('-stream') && ((req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      res.end(Buffer.concat(toolEvents.map(chunkFrame)));
    }) });
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
    try {
      const client = new Anthropic({ authToken: OAUTH_TOKEN, apiKey: null, baseURL: proxy.url, maxRetries: 0 });
      const tools = [{ name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }];
      const msg = await client.messages.stream(body({ tools })).finalMessage();
      assert.equal(msg.stop_reason, 'tool_use');
      assert.deepEqual(msg.content[0], { type: 'tool_use', id: 'toolu_b1', name: 'Read', input: { file_path: '/etc/hosts' } });
      assert.deepEqual(mock.requests.at(-1).json.tools, tools);
      await client.messages.stream(body({ tools, messages: [{ role: 'user', content: 'read it' },
        { role: 'assistant', content: msg.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_b1', content: '127.0.0.1 localhost' }] }] })).finalMessage();
      const sent = mock.requests.at(-1).json.messages;
      assert.deepEqual(sent[2].content[0], { type: 'tool_result', tool_use_id: 'toolu_b1', content: '127.0.0.1 localhost' });
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

// Claude Code's direct-mode metadata.user_id: a JSON string, which the Messages routes refuse
const CC_USER_ID = JSON.stringify({ device_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f',
  account_uuid: '5c1b0a2e-4d3f-4e6a-9b8c-7d6e5f4a3b2c', session_id: '3f1c2a9e-0000-4000-8000-000000000001' });
// a models module putting every model on one route (statements in the config)
const onlyRoute = (route) => ({ lua: `(function() local m = require "models"
  m.default_routes = { "${route}" }
  for _, e in pairs(m.map) do e.routes = nil end
  return m end)()` });

describe('a real Claude Code request falling back to Bedrock', () => {
  test('accepted on every route, for every model family, adapted as each route needs', async () => {
    const anthropic = await startMock((req, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
      res.end('{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}'); });
    const bedrock = await startBedrockMock();
    const real = { ...realRequest(), metadata: { user_id: CC_USER_ID } };
    try {
      for (const route of ['invoke', 'runtime', 'mantle']) {
        const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['anthropic', 'bedrock'], models: onlyRoute(route),
          providers: { anthropic: { type: 'anthropic', base_url: anthropic.url },
            bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl } } } });
        try {
          const models = route === 'invoke'
            ? ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-fable-5-2', 'claude-opus-5', 'claude-sonnet-5',
              'claude-opus-4-8', 'claude-opus-4-7', 'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-sonnet-4-5-20250929',
              'claude-haiku-4-5', 'claude-opus-4-1']
            : ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-fable-5-2', 'claude-opus-4-8'];
          for (const model of models) {
            const before = bedrock.requests.length;
            const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body: JSON.stringify({ ...real, model }),
              headers: claudeCodeHeaders() });
            const up = bedrock.requests[before];
            assert.equal(r.status, 200, `${route} ${model}: ${r.text} ${JSON.stringify(up && up.refused)}`);
            assert.equal(bedrock.requests.length, before + 1, `${route} ${model}: accepted the first time`);
            const evs = parseSse(r.text);
            assert.equal(evs[0].event, 'message_start');
            assert.equal(evs.at(-1).event, 'message_stop');
            assert.deepEqual(up.verdict, { ok: true });
            const j = up.json;
            for (const k of ['tools', 'system', 'messages']) assert.deepEqual(j[k], real[k], `${k} untouched`);
            if (route === 'invoke') {
              assert.equal(j.anthropic_version, 'bedrock-2023-05-31');
              assert.equal(j.metadata.user_id, CC_USER_ID, 'InvokeModel takes the JSON user_id as it is');
              for (const k of ['model', 'stream', 'context_management']) assert.equal(j[k], undefined, k);
              const older = /4-5|4-1/.test(model);
              assert.deepEqual(j.thinking, older ? { type: 'enabled', budget_tokens: 31999 } : real.thinking);
              assert.deepEqual(j.output_config, older ? undefined : real.output_config);
              assert.deepEqual(j.anthropic_beta, older ? ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13']
                : ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13', 'effort-2025-11-24']);
            } else {
              assert.equal(up.host, route === 'mantle' ? 'mantle' : 'runtime');
              assert.equal(up.url, '/anthropic/v1/messages');
              assert.equal(j.model, route === 'mantle' ? `anthropic.${model}` : `us.anthropic.${model}`);
              assert.match(j.metadata.user_id, /^[0-9a-f]{64}$/, 'a stable hash of the JSON user_id');
              assert.equal(j.metadata.user_id, crypto.createHash('sha256').update(CC_USER_ID).digest('hex'));
              assert.equal(up.headers['anthropic-version'], '2023-06-01');
              const betas = up.headers['anthropic-beta'].split(',');
              assert.ok(betas.includes('context-management-2025-06-27') && betas.includes('effort-2025-11-24'), betas.join());
              assert.ok(!betas.includes('oauth-2025-04-20') && !betas.includes('claude-code-20250219'), betas.join());
              for (const k of ['context_management', 'output_config', 'thinking', 'stream']) assert.deepEqual(j[k], real[k], k);
            }
          }
        } finally { await stopProxy(proxy, assert); }
      }
    } finally { await anthropic.close(); await bedrock.close(); }
  });

  test('what Bedrock refuses is removed: server tools with their betas, strict, output_config.format, inference_geo', async () => {
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv() });
    try {
      const tools = [{ name: 'Read', description: 'r', strict: true, input_schema: { type: 'object' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
        { type: 'web_fetch_20250910', name: 'web_fetch' }];
      for (const model of ['claude-opus-5-5', 'claude-sonnet-4-5']) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', headers: {
          'anthropic-beta': 'web-search-2025-03-05,web-fetch-2025-09-10,structured-outputs-2025-11-13,interleaved-thinking-2025-05-14' },
        body: body({ model, tools, inference_geo: 'us', fallbacks: [{ model: 'claude-haiku-5-5' }],
          output_config: { format: { type: 'json_schema', schema: { type: 'object' } } } }) });
        assert.equal(r.status, 200, `${model}: ${r.text}`);
        const j = bedrock.requests.at(-1).json;
        assert.deepEqual(j.tools, [{ name: 'Read', description: 'r', input_schema: { type: 'object' } }]);
        assert.deepEqual(j.anthropic_beta, ['interleaved-thinking-2025-05-14']);
        for (const k of ['inference_geo', 'fallbacks', 'output_config']) assert.equal(j[k], undefined, k);
      }
      assert.match(proxy.output, /removed what Bedrock does not take from a request for us\.anthropic\.claude-opus-5-5 \(invoke\): inference_geo, fallbacks, output_config\.format, tools\[\]\.strict, web_search_20250305, web_fetch_20250910/);
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('anthropic-version 2026-10-21 passes for a model that takes it, else 2023-06-01', async () => {
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: { ...bedrockOnly(bedrock), models: onlyRoute('runtime') }, env: bedrockEnv() });
    try {
      for (const [model, want] of [['claude-opus-5-5', '2026-10-21'], ['claude-sonnet-4-6', '2023-06-01']]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model }),
          headers: { 'anthropic-version': '2026-10-21' } });
        assert.equal(r.status, 200, `${model}: ${r.text}`);
        assert.equal(bedrock.requests.at(-1).headers['anthropic-version'], want, model);
      }
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });
});

describe('route fallback', () => {
  test('a route that does not serve the model hands the request to the next, and the process remembers', async () => {
    // this account: InvokeModel lacks Opus 5.5, the runtime Messages route lacks Fable 5.2
    const bedrock = await startBedrockMock({ invokeLineup: Object.keys(CATALOG).filter((id) => !/opus-5-5|fable-5-2/.test(id)),
      runtimeLineup: Object.keys(CATALOG).filter((id) => !id.includes('fable-5-2')) });
    const proxy = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv() });
    try {
      const ask = (model, extra = {}) => request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model, stream: true, ...extra }) });
      let before = bedrock.requests.length;
      let r = await ask('claude-opus-5-5');
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.at(-1).accepted.route, 'runtime');
      assert.deepEqual(bedrock.requests.slice(before).map((q) => `${q.host} ${q.url}`),
        ['runtime /model/us.anthropic.claude-opus-5-5/invoke-with-response-stream', 'runtime /anthropic/v1/messages']);
      assert.equal(bedrock.requests.at(-1).json.model, 'us.anthropic.claude-opus-5-5');
      assert.match(proxy.output, /route invoke does not serve claude-opus-5-5 in us-west-2 \(400 ValidationException: The provided model identifier is invalid\.\); trying runtime/);
      before = bedrock.requests.length;
      r = await ask('claude-opus-5-5');
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.length, before + 1, 'the next request goes straight to the route that serves it');
      assert.equal(bedrock.requests.at(-1).url, '/anthropic/v1/messages');

      before = bedrock.requests.length;
      r = await ask('claude-fable-5-2');
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.at(-1).accepted.route, 'mantle');
      assert.deepEqual(bedrock.requests.slice(before).map((q) => q.host), ['runtime', 'runtime', 'mantle']);
      assert.equal(bedrock.requests.at(-1).json.model, 'anthropic.claude-fable-5-2');
      // count_tokens: never the runtime route; InvokeModel's CountTokens, else mantle's
      before = bedrock.requests.length;
      r = await request(`${proxy.url}/v1/messages/count_tokens`, { method: 'POST', body: countBody({ model: 'claude-fable-5-2' }) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { input_tokens: 55 });
      assert.deepEqual(bedrock.requests.slice(before).map((q) => `${q.host} ${q.url}`),
        ['runtime /model/anthropic.claude-fable-5-2/count-tokens', 'mantle /anthropic/v1/messages/count_tokens']);
      r = await request(`${proxy.url}/v1/messages/count_tokens`, { method: 'POST', body: countBody({ model: 'claude-opus-5-5' }) });
      assert.equal(r.status, 200, r.text);
      assert.ok(bedrock.requests.every((q) => !(q.host === 'runtime' && q.url.endsWith('/count_tokens'))));

      const h = (await request(`${proxy.url}/health`)).json.providers.find((p) => p.name === 'bedrock');
      const opus = h.routes.find((x) => x.model === 'claude-opus-5-5');
      assert.equal(opus.region, 'us-west-2');
      assert.match(opus.invoke, /^refused: 400 ValidationException/);
      assert.equal(opus.runtime, 'serves: us.anthropic.claude-opus-5-5');
      const fable = h.routes.find((x) => x.model === 'claude-fable-5-2');
      assert.match(fable.runtime, /^refused/);
      assert.equal(fable.mantle, 'serves: anthropic.claude-fable-5-2');
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('a model no route serves gets Bedrock\'s last answer; a mantle lineup refusal counts as one', async () => {
    const bedrock = await startBedrockMock({ region: 'ap-northeast-1', invokeLineup: [], runtimeLineup: [] });
    const proxy = await startProxy({ config: bedrockOnly(bedrock, { region: 'ap-northeast-1' }), env: bedrockEnv() });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-opus-4-8' }) });
      assert.equal(r.status, 200, r.text); // mantle's lineup in that region has Opus 4.8 only
      assert.equal(bedrock.requests.at(-1).json.model, 'anthropic.claude-opus-4-8');
      assert.equal(bedrock.requests[0].url, '/model/jp.anthropic.claude-opus-4-8/invoke');
      const before = bedrock.requests.length;
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-5-5' }) });
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error.type, 'not_found_error');
      assert.match(r.json.error.message, /not available in this region/);
      assert.equal(bedrock.requests.length, before + 3);
      assert.match(proxy.output, /route mantle does not serve claude-sonnet-5-5 in ap-northeast-1 .*no route left/);
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('429, 5xx and other 400s are not route problems: no other route is tried', async () => {
    let status = 429;
    const bedrock = await startBedrockMock({ behaviour: (rec) => rec.host === 'runtime' && rec.url.includes('/model/') && ((req, res) => {
      const type = { 429: 'ThrottlingException', 503: 'ServiceUnavailableException', 400: 'ValidationException' }[status];
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ message: status === 429 ? 'Too many requests' : 'messages.0.content: Field required' }));
    }) });
    for (const s of [429, 503, 400]) {
      status = s;
      const proxy = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv() });
      try {
        const before = bedrock.requests.length;
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-opus-5-5' }) });
        assert.ok(r.status >= 400, r.text);
        assert.equal(bedrock.requests.length, before + 1, `${s}: one request`);
      } finally { await stopProxy(proxy, assert); }
    }
    await bedrock.close();
  });
});

describe('per-model adaptation', () => {
  test('a models.map entry overrides its routes\' betas, dropped fields and thinking budget', async () => {
    const mock = await startBedrockMock();
    const models = { lua: `(function() local m = require "models"
      local e = m.map["claude-sonnet-4-5-20250929"]
      e.betas = { "tool-search-tool-2025-10-19" }; e.drop_fields = { "context_management", "output_config" }; e.thinking_budget = 4096
      return m end)()` };
    const proxy = await startProxy({ config: { ...bedrockOnly(mock), models }, env: bedrockEnv() });
    try {
      const real = realRequest();
      const sent = {};
      const headers = { ...claudeCodeHeaders(), 'anthropic-beta': `${claudeCodeHeaders()['anthropic-beta']},tool-search-tool-2025-10-19` };
      for (const model of ['claude-sonnet-4-5-20250929', 'claude-opus-4-5-20251101']) {
        const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', body: JSON.stringify({ ...real, model }), headers });
        assert.equal(r.status, 200, r.text);
        sent[model] = mock.requests.at(-1).json;
      }
      const j = sent['claude-sonnet-4-5-20250929'];
      assert.deepEqual(j.anthropic_beta, ['tool-search-tool-2025-10-19']);
      assert.equal(j.context_management, undefined);
      assert.deepEqual(j.thinking, { type: 'enabled', budget_tokens: 4096 });
      const other = sent['claude-opus-4-5-20251101']; // no entry override: the route's defaults
      assert.deepEqual(other.anthropic_beta, ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13',
        'tool-search-tool-2025-10-19']);
      assert.equal(other.output_config, undefined);
      assert.deepEqual(other.thinking, { type: 'enabled', budget_tokens: 31999 });
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('the adaptation settings of the provider moved to models.adapt: a config that sets them is refused', async () => {
    const bad = await startProxy({ config: { order: ['bedrock'], providers: { bedrock: { type: 'bedrock', betas_allowed: ['x'] } } },
      env: bedrockEnv(), expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /betas_allowed is now set per route in models\.adapt/);
  });
});

describe('endpoints and inference profiles', () => {
  test('an endpoint with a path prefix is signed as it is sent', async () => {
    const mock = await startBedrockMock();
    const models = { lua: `(function() local m = require "models"; m.map["claude-opus-4-8"].routes = { "mantle" }; return m end)()` };
    const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['bedrock'], models, providers: { bedrock: {
      type: 'bedrock', region: 'us-west-2', endpoint: `${mock.url}/vpce/runtime`, mantle_endpoint: `${mock.mantleUrl}/gw/mantle` } } } });
    try {
      for (const [model, url] of [
        ['claude-sonnet-4-5', '/vpce/runtime/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
        ['claude-opus-4-8', '/gw/mantle/anthropic/v1/messages'],
      ]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model }) });
        assert.equal(r.status, 200, r.text);
        assert.equal(mock.requests.at(-1).url, url);
        assert.deepEqual(mock.requests.at(-1).verdict, { ok: true });
      }
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then AWS_ENDPOINT_URL, when the config names no endpoint', async () => {
    const mock = await startBedrockMock();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cases = [
      [{ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: mock.url, AWS_ENDPOINT_URL: dead }, {}],
      [{ AWS_ENDPOINT_URL: mock.url }, {}],
      [{ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: dead, AWS_ENDPOINT_URL: dead }, { endpoint: mock.url }], // the config wins
    ];
    for (const [env, extra] of cases) {
      const proxy = await startProxy({ env: bedrockEnv(env), config: { order: ['bedrock'], providers: {
        bedrock: { type: 'bedrock', region: 'us-west-2', ...extra } } } });
      try {
        // (with AWS_ENDPOINT_URL the control plane's listing goes to this mock too, at any moment)
        const invocations = () => mock.requests.filter((q) => q.method === 'POST');
        const before = invocations().length;
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
        assert.equal(r.status, 200, `${JSON.stringify(env)}: ${r.text}`);
        assert.equal(invocations().length, before + 1);
        assert.deepEqual(invocations().at(-1).verdict, { ok: true });
        const h = (await request(`${proxy.url}/health`)).json;
        assert.equal(h.providers.find((p) => p.name === 'bedrock').endpoint, mock.url);
      } finally { await stopProxy(proxy, assert); }
    }
    await mock.close();
  });

  test('region_prefix prefers a profile the model has; a model without it keeps one it has', async () => {
    const mock = await startBedrockMock();
    const proxy = await startProxy({ config: bedrockOnly(mock, { region_prefix: 'global' }), env: bedrockEnv() });
    try {
      for (const [model, url] of [
        ['claude-sonnet-4-5', '/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
        ['claude-opus-4-1', '/model/us.anthropic.claude-opus-4-1-20250805-v1%3A0/invoke'],
      ]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model }) });
        assert.equal(r.status, 200, r.text);
        assert.equal(mock.requests.at(-1).url, url);
      }
    } finally { await stopProxy(proxy, assert); await mock.close(); }
    const bad = await startProxy({ config: bedrockOnly(mock, { region_prefix: 'mars' }), env: bedrockEnv(), expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /region_prefix "mars"/);
  });
});

describe('Bedrock failures', () => {
  test('a mid-stream exception becomes an SSE error event; the stream ends cleanly', async () => {
    const mock = await startBedrockMock({ behaviour: (rec) => rec.url.endsWith('-stream') && ((req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      const evs = answerEvents();
      res.write(Buffer.concat([chunkFrame(evs[0]), chunkFrame(evs[1])]));
      res.end(exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.'));
    }) });
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      const evs = parseSse(r.text);
      assert.deepEqual(evs.map((e) => e.event), ['message_start', 'content_block_start', 'error']);
      const err = JSON.parse(evs.at(-1).data);
      assert.equal(err.error.type, 'rate_limit_error');
      assert.match(err.error.message, /Too many tokens/);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('HTTP errors become Anthropic errors: 429 ThrottlingException, 400 ValidationException', async () => {
    let mode = 'throttle';
    const mock = await startBedrockMock({ behaviour: () => (req, res) => {
      if (mode === 'throttle') {
        res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/' });
        res.end('{"message":"Too many requests, please wait before trying again."}');
      } else {
        res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' });
        res.end('{"message":"messages.0.content: Field required"}');
      }
    } });
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 429);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, 'rate_limit_error');
      assert.match(r.json.error.message, /Too many requests/);
      await sleep(1100); // cooldown_min
      mode = 'invalid';
      const p2 = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
      r = await request(`${p2.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, /Field required/);
      await stopProxy(p2, assert);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('a token count answer without a count is a 502, never a made-up number', async () => {
    const mock = await startBedrockMock({ behaviour: (rec) => /count[-_]tokens$/.test(rec.url) && ((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'not a count' }));
    }) });
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv() });
    try {
      for (const model of ['claude-sonnet-4-5', 'claude-opus-4-8']) {
        const r = await request(`${proxy.url}/v1/messages/count_tokens`, { method: 'POST', body: countBody({ model }) });
        assert.equal(r.status, 502, r.text);
        assert.equal(r.reason, 'Bad Gateway', 'the status line says the status the filter set');
        assert.equal(r.json.error.type, 'api_error');
        assert.ok(!('input_tokens' in r.json));
      }
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('wrong credentials: the 403 is relayed cleanly as a permission_error', async () => {
    const mock = await startBedrockMock();
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv({ AWS_SECRET_ACCESS_KEY: 'wrong-secret-key-value' }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.type, 'permission_error');
      assert.match(r.json.error.message, /signature/);
      assert.ok(!proxy.output.includes('wrong-secret-key-value'));
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('session-token credentials are signed with x-amz-security-token', async () => {
    const mock = await startBedrockMock({ credentials: { ...AWS_KEYS, sessionToken: 'FQoGZXIvYXdzEXAMPLETOKEN+/=' } });
    const proxy = await startProxy({ config: bedrockOnly(mock), env: bedrockEnv({ AWS_SESSION_TOKEN: 'FQoGZXIvYXdzEXAMPLETOKEN+/=' }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      const up = mock.requests.at(-1);
      assert.equal(up.headers['x-amz-security-token'], 'FQoGZXIvYXdzEXAMPLETOKEN+/=');
      assert.match(up.headers.authorization, /SignedHeaders=[^,]*x-amz-security-token/);
      assert.deepEqual(up.verdict, { ok: true });
      assert.ok(!proxy.output.includes('EXAMPLETOKEN'));
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('credential_process: slow is fine (the loop keeps serving), failing makes Bedrock unavailable', async () => {
    const dir = tmpdir('cp-aws-');
    const script = path.join(dir, 'creds.sh');
    const runs = path.join(dir, 'runs');
    fs.writeFileSync(script, `#!/bin/sh\necho run >> ${runs}\nsleep 1\necho '{"Version":1,"AccessKeyId":"${AWS_KEYS.accessKeyId}","SecretAccessKey":"${AWS_KEYS.secretAccessKey}","Expiration":"2099-01-01T00:00:00Z"}'\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'config'), `[profile slow]\ncredential_process = ${script}\n\n[profile broken]\ncredential_process = sh -c 'echo "no way: SECRETSTDERR" >&2; exit 3'\n`);
    const mock = await startBedrockMock();
    const env = { AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_REGION: 'us-west-2' };
    let proxy = await startProxy({ config: bedrockOnly(mock, { profile: 'slow' }), env });
    try {
      const order = [];
      const pending = request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() }).then((r) => { order.push('bedrock'); return r; });
      await sleep(100); // the credential process is running now
      const h = await request(`${proxy.url}/health`).then((r) => { order.push('health'); return r; });
      assert.equal(h.status, 200);
      const r = await pending;
      assert.deepEqual(order, ['health', 'bedrock'], 'the event loop answered while the credential process ran');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(mock.requests.at(-1).verdict, { ok: true });
      assert.equal((await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() })).status, 200);
      assert.equal(fs.readFileSync(runs, 'utf8'), 'run\n', 'credentials are cached until shortly before Expiration');
    } finally { await stopProxy(proxy, assert); }
    const anthropic = await startMock((req, res) => { res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"type":"message","content":[{"type":"text","text":"anthropic"}]}'); });
    proxy = await startProxy({ env, config: { order: ['bedrock', 'anthropic'], providers: {
      bedrock: { type: 'bedrock', profile: 'broken', endpoint: mock.url, mantle_endpoint: mock.mantleUrl },
      anthropic: { type: 'anthropic', base_url: anthropic.url } } } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, 'Anthropic keeps serving');
      assert.equal(r.json.content[0].text, 'anthropic');
      const h = (await request(`${proxy.url}/health`)).json;
      const b = h.providers.find((p) => p.name === 'bedrock');
      assert.equal(b.state, 'unavailable');
      assert.match(b.reason, /credential_process failed \(exit 3\)/);
      assert.match(proxy.output, /credential_process failed/);
    } finally { await stopProxy(proxy, assert); await mock.close(); await anthropic.close(); }
  });

  test('no credentials at all: Bedrock reports why; an Anthropic-first chain still works', async () => {
    const mock = await startBedrockMock();
    const proxy = await startProxy({ config: bedrockOnly(mock, { profile: 'nobody' }), env: { HOME: tmpdir(),
      AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } });
    try {
      const h = (await request(`${proxy.url}/health`)).json;
      assert.match(h.providers[0].reason, /no AWS credentials found/);
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.ok(r.status >= 400);
      assert.equal(r.json.type, 'error');
      assert.match(r.json.error.message, /no AWS credentials/);
      assert.equal(mock.requests.length, 0);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

// A conversation whose earlier assistant turn thought, signed as the mock signs (sig-<model>).
const withThinking = (model, signedBy, extra = {}) => body({ model, max_tokens: 2000,
  thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'Read it' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'Let me look.', signature: signatureOf(signedBy) },
      { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/etc/hosts' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '127.0.0.1 localhost' }] }],
  tools: [{ name: 'Read', description: 'r', input_schema: { type: 'object' } }], ...extra });

describe('thinking signatures', () => {
  test('the same model keeps thinking blocks exactly; another model chosen by route() gets none', async () => {
    const bedrock = await startBedrockMock();
    const route = { lua: `function(req)
      if req.model == "claude-opus-5-5" and req.headers["x-cheaper"] then return { "bedrock" }, "claude-sonnet-5-5" end
    end` };
    const proxy = await startProxy({ config: { ...bedrockOnly(bedrock), route }, env: bedrockEnv() });
    try {
      const sent = withThinking('claude-opus-5-5', 'claude-opus-5-5');
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: JSON.stringify(sent) });
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.length, 1);
      const raw = bedrock.requests[0].body.toString();
      assert.ok(raw.includes(JSON.stringify(sent.messages)), 'the history byte for byte, thinking blocks included');
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: JSON.stringify(sent), headers: { 'x-cheaper': '1' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.length, 2, 'accepted the first time');
      const j = bedrock.requests[1].json;
      assert.equal(bedrock.requests[1].url, '/model/us.anthropic.claude-sonnet-5-5/invoke');
      assert.deepEqual(j.messages[1].content, [sent.messages[1].content[1]], 'the other model\'s thinking left out');
      assert.deepEqual(j.messages[2], sent.messages[2]);
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('a refused signature (Bedrock or Anthropic) is retried once without the thinking blocks', async () => {
    const bedrock = await startBedrockMock();
    let anthropicAsked = 0;
    const anthropic = await startMock((req, res, b) => {
      anthropicAsked++;
      const j = JSON.parse(b.toString());
      if (JSON.stringify(j.messages).includes('"thinking"')) {
        res.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_sig' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error',
          message: 'messages.1.content.0: Invalid `signature` in `thinking` block' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'anthropic' }] }));
    });
    const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['anthropic'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url } } } });
    const proxyB = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv() });
    try {
      // Bedrock: the history was written by Sonnet 4.6 (an earlier turn served elsewhere)
      const sent = withThinking('claude-opus-5-5', 'claude-sonnet-4-6');
      let r = await request(`${proxyB.url}/v1/messages`, { method: 'POST', body: JSON.stringify(sent) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(bedrock.requests.map((q) => q.refused ? 'refused' : 'accepted'), ['refused', 'accepted']);
      assert.match(bedrock.requests[0].refused.message, /Invalid `signature` in `thinking` block/);
      assert.deepEqual(bedrock.requests[1].json.messages[1].content, [sent.messages[1].content[1]]);
      assert.match(proxyB.output, /bedrock: a thinking block's signature was refused \(400\); once more without the 1 thinking block of earlier turns/);
      // Anthropic, the same
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: JSON.stringify(sent),
        headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(anthropicAsked, 2);
      // a second refusal is relayed, not retried again
      const always = await startMock((req, res) => { res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"type":"error","error":{"type":"invalid_request_error","message":"Invalid `signature` in `thinking` block"}}'); });
      const p2 = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: always.url } } } });
      r = await request(`${p2.url}/v1/messages`, { method: 'POST', body: JSON.stringify(sent), headers: { authorization: `Bearer ${OAUTH_TOKEN}` } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.equal(always.requests.length, 2, 'once more, then the answer as it came');
      await stopProxy(p2, assert); await always.close();
    } finally { await stopProxy(proxy, assert); await stopProxy(proxyB, assert); await anthropic.close(); await bedrock.close(); }
  });
});

describe('Bedrock API keys', () => {
  const KEY = 'ABSKQmVkcm9ja0FQSUtleS10ZXN0OnNlY3JldHZhbHVlMDEyMzQ1Njc4OQ==';
  test('AWS_BEARER_TOKEN_BEDROCK: Authorization: Bearer on every route instead of SigV4, never in the log', async () => {
    const bedrock = await startBedrockMock({ apiKey: KEY, invokeLineup: [], runtimeLineup: [] });
    const proxy = await startProxy({ config: bedrockOnly(bedrock), env: { AWS_BEARER_TOKEN_BEDROCK: KEY,
      AWS_REGION: 'us-west-2', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', HOME: tmpdir() } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-opus-4-8' }) });
      assert.equal(r.status, 200, r.text); // invoke and runtime refuse it in this account; mantle serves it
      assert.deepEqual(bedrock.requests.map((q) => q.host), ['runtime', 'runtime', 'mantle']);
      for (const q of bedrock.requests) {
        assert.deepEqual(q.verdict, { ok: true, apiKey: true });
        assert.equal(q.headers['x-amz-date'], undefined);
        assert.equal(q.headers['x-api-key'], undefined);
      }
      const h = (await request(`${proxy.url}/health`)).json.providers[0];
      assert.equal(h.state, 'ok');
      assert.match(h.credentials, /^api key \(AWS_BEARER_TOKEN_BEDROCK\) \.\.\.OQ==$/);
      assert.ok(!JSON.stringify(h).includes(KEY.slice(4, 30)));
      assert.ok(!proxy.output.includes(KEY.slice(4, 30)), 'the key never reaches the log');
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('api_key_file must be readable by its owner only; a wrong key is a 403', async () => {
    const bedrock = await startBedrockMock({ apiKey: KEY });
    const dir = tmpdir('cp-key-');
    const file = path.join(dir, 'key');
    fs.writeFileSync(file, `${KEY}\n`, { mode: 0o644 });
    const env = { AWS_REGION: 'us-west-2', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', HOME: dir };
    const bad = await startProxy({ config: bedrockOnly(bedrock, { api_key_file: file }), env, expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /must be readable by its owner only/);
    fs.chmodSync(file, 0o600);
    const proxy = await startProxy({ config: bedrockOnly(bedrock, { api_key_file: file }), env });
    const wrong = await startProxy({ config: bedrockOnly(bedrock, { api_key: 'ABSKd3JvbmdrZXl3cm9uZ2tleXdyb25na2V5' }), env });
    try {
      let r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(bedrock.requests.at(-1).verdict, { ok: true, apiKey: true });
      r = await request(`${wrong.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 403);
      assert.ok(!wrong.output.includes('d3JvbmdrZXl3cm9uZ2tl'));
      assert.ok(!proxy.output.includes(KEY.slice(4, 30)));
    } finally { await stopProxy(proxy, assert); await stopProxy(wrong, assert); await bedrock.close(); }
  });
});

describe('the Bedrock service tier', () => {
  const TIER = 'x-amzn-bedrock-service-tier';
  const signed = (q) => /SignedHeaders=([^,]+)/.exec(q.headers.authorization ?? '')?.[1].split(';') ?? [];

  test('service_tier goes as X-Amzn-Bedrock-Service-Tier on every route, signed; none when unset', async () => {
    // this account: InvokeModel lacks Opus 5.5, the runtime Messages route lacks Fable 5.2
    const bedrock = await startBedrockMock({ invokeLineup: Object.keys(CATALOG).filter((id) => !/opus-5-5|fable-5-2/.test(id)),
      runtimeLineup: Object.keys(CATALOG).filter((id) => !id.includes('fable-5-2')) });
    let proxy = await startProxy({ config: bedrockOnly(bedrock, { service_tier: 'flex' }),
      env: bedrockEnv({ ANTHROPIC_BEDROCK_SERVICE_TIER: 'priority' }) }); // the config's wins
    try {
      for (const extra of [{}, { stream: true }, { model: 'claude-opus-5-5' }, { model: 'claude-fable-5-2', stream: true }]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(extra) });
        assert.equal(r.status, 200, r.text);
      }
      const r = await request(`${proxy.url}/v1/messages/count_tokens`, { method: 'POST', body: countBody() });
      assert.equal(r.status, 200, r.text);
      const hosts = new Set(bedrock.requests.map((q) => `${q.host} ${q.url.replace(/\/model\/[^/]+\//, '/model/ID/')}`));
      for (const route of ['runtime /model/ID/invoke', 'runtime /model/ID/invoke-with-response-stream',
        'runtime /anthropic/v1/messages', 'mantle /anthropic/v1/messages', 'runtime /model/ID/count-tokens'])
        assert.ok(hosts.has(route), `${route} in ${[...hosts]}`);
      for (const q of bedrock.requests) {
        assert.equal(q.headers[TIER], 'flex', `${q.host} ${q.url}`);
        assert.ok(signed(q).includes(TIER), `signed: ${signed(q)}`);
        assert.deepEqual(q.verdict, { ok: true });
      }
      const h = (await request(`${proxy.url}/health`)).json.providers[0];
      assert.equal(h.service_tier, 'flex');
    } finally { await stopProxy(proxy, assert); }
    // from Claude Code's variable when the config says nothing
    proxy = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv({ ANTHROPIC_BEDROCK_SERVICE_TIER: 'priority' }) });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.at(-1).headers[TIER], 'priority');
      assert.deepEqual(bedrock.requests.at(-1).verdict, { ok: true });
    } finally { await stopProxy(proxy, assert); }
    // neither: no header at all (Bedrock's standard tier)
    proxy = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv({ ANTHROPIC_BEDROCK_SERVICE_TIER: '' }) });
    try {
      const before = bedrock.requests.length;
      for (const extra of [{}, { stream: true }, { model: 'claude-opus-5-5' }, { model: 'claude-fable-5-2' }]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(extra) });
        assert.equal(r.status, 200, r.text);
      }
      for (const q of bedrock.requests.slice(before)) {
        assert.equal(q.headers[TIER], undefined, `${q.host} ${q.url}`);
        assert.ok(!signed(q).includes(TIER));
        assert.deepEqual(q.verdict, { ok: true });
      }
      assert.equal((await request(`${proxy.url}/health`)).json.providers[0].service_tier, undefined);
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
  });

  test('with a Bedrock API key too; a tier that is not default, flex or priority is a config error', async () => {
    const KEY = 'ABSKQmVkcm9ja0FQSUtleS10ZXN0OnNlY3JldHZhbHVlMDEyMzQ1Njc4OQ==';
    const bedrock = await startBedrockMock({ apiKey: KEY });
    const proxy = await startProxy({ config: bedrockOnly(bedrock, { service_tier: 'default', api_key: KEY }), env: bedrockEnv() });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      assert.equal(bedrock.requests.at(-1).headers[TIER], 'default');
      assert.deepEqual(bedrock.requests.at(-1).verdict, { ok: true, apiKey: true });
    } finally { await stopProxy(proxy, assert); await bedrock.close(); }
    let bad = await startProxy({ config: bedrockOnly(bedrock, { service_tier: 'fast' }), env: bedrockEnv(), expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /service_tier "fast" is not one of default, flex, priority/);
    bad = await startProxy({ config: bedrockOnly(bedrock), env: bedrockEnv({ ANTHROPIC_BEDROCK_SERVICE_TIER: 'Flex' }), expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /ANTHROPIC_BEDROCK_SERVICE_TIER "Flex" is not one of default, flex, priority/);
    bad = await startProxy({ config: bedrockOnly(bedrock, { service_tier: 2 }), env: bedrockEnv(), expectFail: true });
    assert.notEqual(bad.result.code, 0);
    assert.match(bad.output, /service_tier/);
  });
});
