// HTTP/2 on the plaintext listener (prior knowledge or an h2c upgrade): what a client may put in a
// request line, and what a client that stops reading may hold. Against the real binary.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startProxy, stopProxy, anthropicHandler, OAUTH_TOKEN, rawExchange, splitResponses } from './lib/harness.mjs';
import { h2connect } from './lib/h2raw.mjs';

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });

function anthropicOnly(mock, extra = {}) {
  return { order: ['anthropic'], providers: { anthropic: { type: 'anthropic', base_url: mock.url, token: OAUTH_TOKEN } },
    http2: true, ...extra };
}

const head = (method, path, extra = []) => [[':method', method], [':scheme', 'http'], [':authority', 'localhost'],
  [':path', path], ['content-type', 'application/json'], ...extra];

describe('the HTTP/2 request line', () => {
  test('a method that is not a token or a path that is not origin-form visible ASCII gets 400, and nothing goes upstream', async () => {
    const mock = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: anthropicOnly(mock) });
    try {
      const c = await h2connect(proxy.port);
      const ok = await c.request(head('POST', '/v1/messages'), JSON.stringify(body()));
      assert.equal(ok.status, 200, ok.body);
      assert.equal(mock.requests.length, 1);
      const anthropic = [
        ['GET /v1/evil', '/v1/models'], // would make "GET /v1/evil /v1/models HTTP/1.1"
        ['POST', '/v1/evil /v1/messages'],
        ['POST', '/v1/messages\tx'],
        ['POST', '/v1/m\xe9ssages'],
        ['PO\xc3\x89ST', '/v1/messages'],
        ['POST', 'v1/messages'],
        ['POST', '*'],
        ['', '/v1/messages'],
      ];
      for (const [method, path] of anthropic) {
        const r = await c.request(head(method, path), JSON.stringify(body()));
        assert.equal(r.status, 400, JSON.stringify([method, path]));
        const e = JSON.parse(r.body);
        assert.equal(e.type, 'error', r.body);
        assert.equal(e.error.type, 'invalid_request_error');
      }
      // OpenAI endpoints answer in OpenAI's shape
      for (const [method, path] of [['POST', '/v1/chat/completions?x=a b'], ['POST\t', '/v1/chat/completions']]) {
        const r = await c.request(head(method, path), JSON.stringify({ model: 'claude-sonnet-5', messages: [] }));
        assert.equal(r.status, 400, JSON.stringify([method, path]));
        const e = JSON.parse(r.body);
        assert.equal(e.type, undefined, r.body);
        assert.equal(e.error.type, 'invalid_request_error');
        assert.match(e.error.message, /request (method|target)/);
      }
      c.close();
      // HTTP/1's parser lets bytes >= 0x80 through in the target: the same rule applies
      const [h1] = splitResponses((await rawExchange(proxy.port, 'GET /v1/m\u00e9ssages HTTP/1.1\r\nHost: localhost\r\n\r\n')).text);
      assert.equal(h1.status, 400);
      assert.equal(JSON.parse(h1.body).error.type, 'invalid_request_error');
      assert.equal(mock.requests.length, 1, `nothing else went upstream: ${mock.requests.slice(1).map((r) => `${r.method} ${r.url}`)}`);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});
