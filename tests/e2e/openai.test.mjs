// The OpenAI-compatible endpoint end to end, with the official `openai` SDK as the client.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startProxy, stopProxy, request, parseSse, sleep, OAUTH_TOKEN } from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, chunkFrame } from './lib/bedrock-mock.mjs';

const JSON_TYPE = { 'content-type': 'application/json' };
const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

// A mock Anthropic that answers with text, or with a tool call when the request has tools.
function anthropicMock() {
  return startMock(async (req, res, raw) => {
    const body = JSON.parse(raw);
    const tool = Array.isArray(body.tools) && body.tools.length > 0 && body.messages.at(-1).content.every?.((b) => b.type !== 'tool_result');
    const usage = { input_tokens: 20, cache_read_input_tokens: 5, output_tokens: 1 };
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ev('message_start', { message: { id: 'msg_oai1', type: 'message', role: 'assistant', model: body.model,
        content: [], stop_reason: null, usage } }));
      if (tool) {
        res.write(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: {} } }));
        for (const p of ['{"city":', ' "Par', 'is"}']) {
          res.write(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: p } }));
          await sleep(5);
        }
        res.write(ev('content_block_stop', { index: 0 }));
        res.write(ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } }));
      } else {
        res.write(ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }));
        res.write(ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }));
        res.write(ev('content_block_stop', { index: 0 }));
        res.write(ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }));
        for (const w of ['Hello', ' from', ' Claude']) {
          res.write(ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: w } }));
          await sleep(5);
        }
        res.write(ev('content_block_stop', { index: 1 }));
        res.write(ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }));
      }
      res.end(ev('message_stop', {}));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'msg_oai1', type: 'message', role: 'assistant', model: body.model,
      content: tool ? [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Paris' } }]
        : [{ type: 'text', text: 'Hello from Claude' }],
      stop_reason: tool ? 'tool_use' : 'end_turn', usage: { ...usage, output_tokens: 7 } }));
  });
}

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

describe('OpenAI Chat Completions', () => {
  let mock, proxy, client;
  before(async () => {
    mock = await anthropicMock();
    proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: mock.url, token: OAUTH_TOKEN } } } });
    client = new OpenAI({ apiKey: 'not-needed', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  test('non-streaming text, usage, and the request translated to Anthropic Messages', async () => {
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5', max_completion_tokens: 50,
      temperature: 0.2, stop: 'END', user: 'u-1', messages: [
        { role: 'system', content: 'Be brief.' }, { role: 'developer', content: 'No emojis.' },
        { role: 'user', content: 'Hi' }] });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.content, 'Hello from Claude');
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.deepEqual(r.usage, { prompt_tokens: 25, completion_tokens: 7, total_tokens: 32 });
    assert.equal(r.model, 'claude-sonnet-4-5');
    const up = JSON.parse(mock.requests.at(-1).body);
    assert.equal(mock.requests.at(-1).url, '/v1/messages');
    assert.equal(up.system, 'Be brief.\n\nNo emojis.');
    assert.equal(up.max_tokens, 50);
    assert.equal(up.temperature, 0.2);
    assert.deepEqual(up.stop_sequences, ['END']);
    assert.deepEqual(up.metadata, { user_id: 'u-1' });
    assert.deepEqual(up.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
    assert.equal(mock.requests.at(-1).headers.authorization, `Bearer ${OAUTH_TOKEN}`);
  });

  test('non-streaming tool calls; tool results merged into one user turn; an image part', async () => {
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5', tools, tool_choice: 'required',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] });
    const call = r.choices[0].message.tool_calls[0];
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
    let up = JSON.parse(mock.requests.at(-1).body);
    assert.deepEqual(up.tools[0], { name: 'get_weather', description: 'Weather for a city',
      input_schema: tools[0].function.parameters });
    assert.deepEqual(up.tool_choice, { type: 'any' });
    assert.deepEqual(up.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } });
    assert.equal(up.max_tokens, 4096, 'a default max_tokens is supplied');

    await client.chat.completions.create({ model: 'claude-sonnet-4-5', tools, messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: 'rain' }] });
    up = JSON.parse(mock.requests.at(-1).body);
    assert.equal(up.messages.length, 3);
    assert.deepEqual(up.messages[1].content.map((b) => [b.type, b.id, b.input.city]),
      [['tool_use', 'call_1', 'Paris'], ['tool_use', 'call_2', 'Rome']]);
    assert.deepEqual(up.messages[2], { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
      { type: 'tool_result', tool_use_id: 'call_2', content: 'rain' }] });
  });

  test('streaming text with include_usage: role first, deltas, finish, usage, [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true,
      stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Hello from Claude', 'thinking is not shown');
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    assert.equal(finish.choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 25, completion_tokens: 7, total_tokens: 32 });
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-msg_oai1'));
  });

  test('streaming tool calls: index, id and name, then argument fragments', async () => {
    const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const calls = [];
    let finish;
    for await (const c of stream) {
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) calls.push(tc);
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(calls[0].index, 0);
    assert.equal(calls[0].id, 'toolu_9');
    assert.equal(calls[0].function.name, 'get_weather');
    assert.equal(calls.map((c) => c.function.arguments).join(''), '{"city": "Paris"}');
    assert.equal(finish, 'tool_calls');
  });

  test('GET /v1/models lists the models the map knows, in OpenAI form', async () => {
    const list = await client.models.list();
    const ids = [];
    for await (const m of list) ids.push(m.id);
    assert.ok(ids.includes('claude-sonnet-4-5-20250929'));
    assert.ok(ids.includes('claude-opus-4-6'));
  });

  test('a base URL without /v1 works for models too (GET /models)', async () => {
    const bare = new OpenAI({ apiKey: 'not-needed', baseURL: proxy.url, maxRetries: 0 });
    const ids = [];
    for await (const m of await bare.models.list()) ids.push(m.id);
    assert.ok(ids.includes('claude-opus-4-6'), ids.join(' '));
    assert.equal(mock.requests.filter((r) => r.url.includes('models')).length, 0, 'answered by the proxy');
  });

  test('temperature above 1 (OpenAI allows up to 2) is a 400 naming the parameter, not forwarded', async () => {
    const before = mock.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'claude-sonnet-4-5', temperature: 1.5,
      messages: [{ role: 'user', content: 'Hi' }] }), (e) => e.status === 400 && e.param === 'temperature' &&
      e.type === 'invalid_request_error' && /temperature 1\.5 is not supported: Claude models accept 0 to 1/.test(e.message));
    assert.equal(mock.requests.length, before, 'nothing went upstream');
    await client.chat.completions.create({ model: 'claude-sonnet-4-5', temperature: 1, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(JSON.parse(mock.requests.at(-1).body).temperature, 1, 'the top of the range passes as is');
  });

  const bad = [
    ['invalid JSON', '{"model":', 'invalid_request_error', null],
    ['missing messages', '{"model":"claude-sonnet-4-5"}', 'invalid_request_error', 'messages'],
    ['missing model', '{"messages":[{"role":"user","content":"hi"}]}', 'invalid_request_error', 'model'],
    ['n > 1', '{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}', 'invalid_request_error', 'n'],
    ['unknown role', '{"model":"m","messages":[{"role":"wizard","content":"hi"}]}', 'invalid_request_error', 'messages'],
    ['bad tool arguments', '{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"not json"}}]}]}', 'invalid_request_error', 'messages'],
  ];
  for (const [name, raw, type, param] of bad) {
    test(`bad input: ${name} -> 400 in OpenAI's error shape`, async () => {
      const before = mock.requests.length;
      const r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: JSON_TYPE, body: raw });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, type);
      assert.equal(r.json.error.param, param);
      assert.ok(typeof r.json.error.message === 'string' && r.json.error.message.length > 0);
      assert.ok('code' in r.json.error);
      assert.equal(mock.requests.length, before);
    });
  }

  test('the SDK sees upstream errors as OpenAI errors; /chat/completions works too', async () => {
    const m = await startMock((req, res) => { res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}'); });
    const p = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: m.url } } } });
    try {
      const c = new OpenAI({ apiKey: 'x', baseURL: p.url, maxRetries: 0 });
      await assert.rejects(c.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }),
        (e) => e.status === 401 && e.error?.message === 'invalid x-api-key' && e.error?.type === 'authentication_error');
    } finally { await stopProxy(p, assert); await m.close(); }
  });
});

// A mock Anthropic whose answer breaks in the way the last user message names.
function breakingMock() {
  const start = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(ev('message_start', { message: { id: 'msg_cut', type: 'message', role: 'assistant', model: 'm', content: [],
      stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } }));
    res.write(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }));
  };
  const answers = {
    cut: (res) => { start(res); res.end(); }, // a clean end of the body, but no message_stop
    drop: (res) => { start(res); setTimeout(() => res.socket.destroy(), 20); }, // the connection dies
    error: (res) => { start(res); res.end(ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })); },
    html: (res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html><body>Sign in to the Wi-Fi</body></html>'); },
    half: (res) => {
      const whole = JSON.stringify({ id: 'msg_h', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x'.repeat(200) }],
        stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': whole.length });
      res.write(whole.slice(0, 60));
      setTimeout(() => res.socket.destroy(), 20);
    },
  };
  return startMock((req, res, raw) => answers[JSON.parse(raw).messages.at(-1).content[0].text](res));
}

describe('OpenAI clients and client keys', () => {
  test('a missing key is a 401 in OpenAI\'s shape on every OpenAI path, the models list included', async () => {
    const mock = await anthropicMock();
    const proxy = await startProxy({ config: { client_keys: ['ck-test-key-0123456789'], order: ['anthropic'],
      providers: { anthropic: { type: 'anthropic', base_url: mock.url, token: OAUTH_TOKEN } } } });
    try {
      for (const [method, path] of [['GET', '/v1/models'], ['GET', '/models'], ['POST', '/v1/chat/completions']]) {
        const r = await request(`${proxy.url}${path}`, { method, body: method === 'POST'
          ? { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] } : null });
        assert.equal(r.status, 401, `${path}: ${r.text}`);
        assert.equal(typeof r.json.error.message, 'string', `${path}: ${r.text}`);
        assert.equal(r.json.type, undefined, `${path}: OpenAI shape, not Anthropic's`);
      }
      const ok = new OpenAI({ apiKey: 'ck-test-key-0123456789', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
      const ids = [];
      for await (const m of await ok.models.list()) ids.push(m.id);
      assert.ok(ids.length > 0);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});

describe('OpenAI answers that break', () => {
  let mock, proxy, client;
  before(async () => {
    mock = await breakingMock();
    proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: mock.url } } } });
    client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  after(async () => { await stopProxy(proxy, assert); await mock.close(); });

  // Streams `how` through the SDK: the chunks it yielded before it threw, and what it threw.
  async function streamUntilThrow(how) {
    const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true,
      stream_options: { include_usage: true }, messages: [{ role: 'user', content: how }] });
    const chunks = [];
    let thrown = null;
    try { for await (const c of stream) chunks.push(c); } catch (e) { thrown = e; }
    return { chunks, thrown };
  }

  for (const how of ['cut', 'drop']) {
    test(`a stream whose upstream stops before message_stop (${how}) makes the SDK throw; no finish_reason`, async () => {
      const { chunks, thrown } = await streamUntilThrow(how);
      assert.ok(thrown, 'for await threw');
      assert.match(thrown.message, /the upstream stream broke off before the answer was complete/);
      assert.equal(thrown.type, 'api_error');
      assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Hel', 'what came before the break');
      assert.ok(chunks.every((c) => !c.choices[0]?.finish_reason), 'no finish_reason');
      assert.ok(chunks.every((c) => !c.usage), 'no usage chunk: the answer is not complete');
    });
  }

  test('on the wire: the error chunk ends the stream, without [DONE]', async () => {
    const r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: JSON_TYPE,
      body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'cut' }] } });
    assert.equal(r.status, 200);
    const events = parseSse(r.text).map((e) => JSON.parse(e.data));
    assert.deepEqual(Object.keys(events.at(-1).error), ['message', 'type', 'param', 'code']);
    assert.match(events.at(-1).error.message, /before message_stop/);
    assert.ok(!r.text.includes('[DONE]'), r.text);
  });

  test('an Anthropic error event after some deltas reaches the SDK as an error', async () => {
    const { chunks, thrown } = await streamUntilThrow('error');
    assert.ok(thrown, 'for await threw');
    assert.equal(thrown.message, 'Overloaded');
    assert.equal(thrown.type, 'overloaded_error');
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Hel');
    assert.ok(chunks.every((c) => !c.choices[0]?.finish_reason));
  });

  test('a 200 whose body is not an Anthropic message (HTML) is a 502 in OpenAI\'s error shape', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'html' }] }),
      (e) => e.status === 502 && e.type === 'api_error' && /answered HTTP 200 with a body that is not an Anthropic message/.test(e.message));
    const r = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: JSON_TYPE,
      body: { model: 'm', messages: [{ role: 'user', content: 'html' }] } });
    assert.equal(r.status, 502);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
    assert.deepEqual(r.json, { error: { message: 'the upstream answered HTTP 200 with a body that is not an Anthropic message',
      type: 'api_error', param: null, code: null } });
  });

  test('a 200 whose JSON body breaks off part way is a 502, not a 200 with an error body', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'half' }] }),
      (e) => e.status === 502 && e.type === 'api_error' && /the upstream answer broke off before it was complete/.test(e.message));
  });
});

describe('OpenAI requests fall back to Bedrock', () => {
  test('Anthropic 429 -> Bedrock, streamed back as chat.completion.chunk', async () => {
    const anthropic = await startMock((req, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end('{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}'); });
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['anthropic', 'bedrock'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url },
      bedrock: { type: 'bedrock', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl } } } });
    try {
      const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true,
        messages: [{ role: 'user', content: 'Hi' }] });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      assert.equal(text, 'Hello from Bedrock');
      assert.deepEqual(bedrock.requests.at(-1).verdict, { ok: true });
      const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(r.choices[0].message.content, 'Hello from Bedrock');
      assert.equal(anthropic.requests.length, 1, 'Anthropic cools down after its 429');
    } finally { await stopProxy(proxy, assert); await anthropic.close(); await bedrock.close(); }
  });

  test('tool calls and usage through the Bedrock fallback, streaming and not', async () => {
    const usage = { input_tokens: 40, cache_read_input_tokens: 2, output_tokens: 1 };
    const toolEvents = [
      { type: 'message_start', message: { id: 'msg_bt', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
        content: [], stop_reason: null, stop_sequence: null, usage } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_b7', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' "Oslo"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 17 } },
      { type: 'message_stop' },
    ];
    const anthropic = await startMock((req, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end('{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}'); });
    const bedrock = await startBedrockMock({ behaviour: (rec) => {
      if (rec.url.endsWith('/invoke-with-response-stream')) return (req, res) => {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
        res.end(Buffer.concat(toolEvents.map(chunkFrame)));
      };
      if (rec.url.endsWith('/invoke')) return (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'msg_bt', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
          content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_b7', name: 'get_weather', input: { city: 'Oslo' } }],
          stop_reason: 'tool_use', stop_sequence: null, usage: { ...usage, output_tokens: 17 } }));
      };
      return null;
    } });
    const proxy = await startProxy({ env: bedrockEnv(), config: { order: ['anthropic', 'bedrock'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url },
      bedrock: { type: 'bedrock', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl } } } });
    try {
      const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
      const messages = [{ role: 'user', content: 'Weather in Oslo?' }];
      const expectedUsage = { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 };

      const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, tools,
        tool_choice: 'required', stream_options: { include_usage: true }, messages });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      assert.deepEqual(bedrock.requests.at(-1).verdict, { ok: true });
      assert.match(bedrock.requests.at(-1).url, /\/invoke-with-response-stream$/);
      const sent = bedrock.requests.at(-1).json;
      assert.deepEqual(sent.tools[0], { name: 'get_weather', description: 'Weather for a city', input_schema: tools[0].function.parameters });
      assert.deepEqual(sent.tool_choice, { type: 'any' });
      const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      assert.deepEqual([calls[0].index, calls[0].id, calls[0].function.name], [0, 'toolu_b7', 'get_weather']);
      assert.deepEqual(JSON.parse(calls.map((c) => c.function.arguments).join('')), { city: 'Oslo' });
      assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Checking.');
      assert.equal(chunks.find((c) => c.choices[0]?.finish_reason).choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(chunks.at(-1).usage, expectedUsage);

      const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5', tools, messages });
      assert.match(bedrock.requests.at(-1).url, /\/invoke$/);
      assert.equal(r.choices[0].finish_reason, 'tool_calls');
      assert.equal(r.choices[0].message.content, 'Checking.');
      assert.deepEqual(r.choices[0].message.tool_calls, [{ id: 'toolu_b7', type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
      assert.deepEqual(r.usage, expectedUsage);
      assert.equal(anthropic.requests.length, 1, 'Anthropic cools down after its 429');
    } finally { await stopProxy(proxy, assert); await anthropic.close(); await bedrock.close(); }
  });
});

test('an upstream error without a body still reaches OpenAI clients as an OpenAI error', async () => {
  const m = await startMock((req, res) => { res.writeHead(503, { 'content-length': '0' }); res.end(); });
  const p = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: m.url } } } });
  try {
    const r = await request(`${p.url}/v1/chat/completions`, { method: 'POST', headers: JSON_TYPE,
      body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /503/);
    assert.equal(r.json.error.type, 'api_error');
  } finally { await stopProxy(p, assert); await m.close(); }
});
