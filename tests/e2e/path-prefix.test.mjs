// A base_url with a path prefix (a gateway at …/gw/anthropic): the path a client sends must not
// reach the gateway outside that prefix, where the provider's token would go with it. Routing
// looks at the normalised path and the proxy forwards the path as sent, so a request path with
// dot segments (literal or percent-encoded) or an encoded slash or backslash is refused with 400
// in the caller's format before any provider is asked.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startMock, startProxy, stopProxy, anthropicHandler, OAUTH_TOKEN } from './lib/harness.mjs';

const body = JSON.stringify({ model: 'claude-sonnet-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

// The path goes on the wire exactly as written (a URL string would be normalised by the client).
function send(port, method, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false,
      headers: method === 'POST' ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (method === 'POST') req.write(body);
    req.end();
  });
}

// What a server on the other side makes of a path: dot segments resolved after percent-decoding.
function resolved(url) {
  const p = url.split('?')[0].split('/').map((s) => decodeURIComponent(s));
  const out = [];
  for (const seg of p) {
    if (seg === '..') out.pop();
    else if (seg !== '.') out.push(seg);
  }
  return out.join('/');
}

describe('a base_url with a path prefix', () => {
  test('dot segments, encoded dots and encoded slashes get 400 and never reach the gateway', async () => {
    const gateway = await startMock(anthropicHandler({ text: 'from the gateway' }));
    const proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: `${gateway.url}/gw/anthropic`, token: OAUTH_TOKEN } } } });
    try {
      let r = await send(proxy.port, 'POST', '/v1/messages?beta=true');
      assert.equal(r.status, 200, r.text);
      r = await send(proxy.port, 'GET', '/v1/files/a..b/.c?x=../..'); // dots that are not whole segments
      assert.equal(gateway.requests.length, 2);
      assert.equal(gateway.requests[0].url, '/gw/anthropic/v1/messages?beta=true');
      assert.equal(gateway.requests[1].url, '/gw/anthropic/v1/files/a..b/.c?x=../..');

      const refused = [
        ['POST', '/../../v1/messages'],
        ['POST', '/v1/../../../v1/messages'],
        ['POST', '/v1/messages/..'],
        ['POST', '/v1/./messages'],
        ['POST', '/v1/%2e%2e/%2e%2e/v1/messages'],
        ['POST', '/v1/%2E%2e/%2e./v1/messages'],
        ['POST', '/v1/.%2E/x'],
        ['POST', '/v1/%2e/messages'],
        ['POST', '/v1/..%2f..%2fv1/messages'],
        ['POST', '/v1/..%2F..%2Fx'],
        ['POST', '/v1/..%5c..%5cx'],
        ['POST', '/v1/..\\..\\x'],
        ['GET', '/v1/models/../../../admin'],
        ['GET', '/v1/%2e%2e/%2e%2e/admin?x=1'],
      ];
      for (const [method, path] of refused) {
        r = await send(proxy.port, method, path);
        assert.equal(r.status, 400, `${method} ${path}: ${r.status} ${r.text}`);
        assert.equal(r.json?.type, 'error', r.text);
        assert.equal(r.json.error.type, 'invalid_request_error', r.text);
        assert.match(r.json.error.message, /dot segment|encoded/, r.text);
      }
      // an OpenAI client gets the OpenAI error shape
      r = await send(proxy.port, 'POST', '/v1/./chat/completions');
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json?.error?.type, 'invalid_request_error', r.text);
      assert.equal(r.json.type, undefined, r.text);

      assert.equal(gateway.requests.length, 2, JSON.stringify(gateway.requests.map((q) => q.url)));
      for (const q of gateway.requests) assert.ok(resolved(q.url).startsWith('/gw/anthropic/'), q.url);
      assert.equal(proxy.child.exitCode, null);
    } finally { await stopProxy(proxy, assert); await gateway.close(); }
  });
});
