// Usage and cost of every request: token counts read from what the mock upstream sent (SSE,
// JSON, Bedrock's event-stream, a stream cut midway), priced from lua/prices.lua, on the log line.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startProxy, stopProxy, request, sleep, OAUTH_TOKEN, API_KEY } from './lib/harness.mjs';
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

function logLine(proxy, pattern) {
  return proxy.output.split('\n').filter((l) => pattern.test(l)).at(-1) ?? '';
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
      await sleep(50);
      let line = logLine(proxy, /POST \/v1\/messages .*status=200/);
      assert.match(line, / input=1500 output=250 cache_write=300 cache_read=20000 value_usd=0\.010250$/);
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }),
        headers: { 'x-api-key': API_KEY } });
      assert.equal(r.status, 200);
      await sleep(50);
      line = logLine(proxy, /POST \/v1\/messages .*status=200/);
      assert.match(line, new RegExp(` input=1500 output=250 cache_write=300 cache_read=20000 spend_usd=${FULL_COST}$`));
      // the same through the OpenAI endpoint (converted answer, usage read from the upstream's)
      r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST',
        body: { model: 'claude-sonnet-5-5', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 200);
      await sleep(50);
      assert.match(logLine(proxy, /POST \/v1\/chat\/completions/), / input=1500 output=250 .* value_usd=/);
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
      await sleep(50);
      const line = logLine(cutProxy, /POST \/v1\/messages .*status=200/);
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
      await sleep(50);
      // at the override: 1500 * 3.3 + 250 * 16.5 + 300 * 4 + 20000 * 0.33 = 4950 + 4125 + 1200 + 6600
      assert.match(logLine(proxy, /POST \/v1\/messages .*status=200/),
        / input=1500 output=250 cache_write=300 cache_read=20000 spend_usd=0\.016875$/);
      // InvokeModel's JSON answer (the default mock's: 12 in, 5 out) at the same override
      r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'claude-sonnet-4-5' }) });
      assert.equal(r.status, 200, r.text);
      await sleep(50);
      assert.match(logLine(proxy, /POST \/v1\/messages .*status=200/),
        / input=12 output=5 cache_write=0 cache_read=0 spend_usd=0\.000122$/);
    } finally {
      await stopProxy(proxy, assert);
      await mock.close();
    }
  });
});
