// Test harness: starts the real claude-proxy binary with a generated Lua config, loopback mock
// upstreams (HTTP and HTTPS with a CA made at test time), and small HTTP helpers.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.CP_SOURCE_DIR || path.resolve(here, '../../..');
export const PROXY_BIN = process.env.CLAUDE_PROXY_BIN || path.join(SOURCE_DIR, 'build/claude-proxy');
export const TEST_DATA = path.join(SOURCE_DIR, 'tests/data');

export const OAUTH_TOKEN = 'sk-ant-oat01-TESTTOKENvalue0123456789abcdefSECRET';
export const API_KEY = 'sk-ant-api03-TESTAPIKEYvalue0123456789abcdefSECRET';

export function tmpdir(prefix = 'cp-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A CA, a certificate for localhost/127.0.0.1 and ones for other names, made with openssl.
let cachedPki;
export function makePki() {
  if (cachedPki) return cachedPki;
  const dir = tmpdir('cp-pki-');
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=claude-proxy test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = (name, san) => {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
    return { key: fs.readFileSync(path.join(dir, `${name}.key`)), cert: fs.readFileSync(path.join(dir, `${name}.pem`)) };
  };
  cachedPki = {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    localhost: leaf('localhost', 'DNS:localhost,IP:127.0.0.1'),
    other: leaf('other.example', 'DNS:other.example'),
    // for an upstream addressed by IP: another address, and the address written as a host name
    otherIp: leaf('other-ip', 'IP:127.0.0.2'),
    ipAsDns: leaf('ip-as-dns', 'DNS:127.0.0.1'),
  };
  return cachedPki;
}

// A mock upstream. handler(req, res, body) answers; every request is recorded.
export async function startMock(handler, { tls = null, tlsOptions = {} } = {}) {
  const requests = [];
  const sockets = new Set();
  let connections = 0;
  const onRequest = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body,
        socket: req.socket };
      requests.push(record);
      Promise.resolve(handler(req, res, body, record)).catch((e) => {
        console.error('mock handler failed', e);
        try { res.destroy(); } catch {}
      });
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert, ...tlsOptions }, onRequest)
    : http.createServer(onRequest);
  server.keepAliveTimeout = 30000;
  server.on(tls ? 'secureConnection' : 'connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    url: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`,
    requests,
    get connections() { return connections; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// Anthropic-style SSE events for a short text answer.
export function sseEvents(text = 'Hello there', model = 'claude-sonnet-5') {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id: 'msg_test1', type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...text.split(' ').map((w, i) => ev('content_block_delta', { index: 0,
      delta: { type: 'text_delta', text: (i ? ' ' : '') + w } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } }),
    ev('message_stop', {}),
  ];
}

export function messageJson(text = 'Hello there', model = 'claude-sonnet-5') {
  return { id: 'msg_test1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }],
    stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 5 } };
}

// A mock Anthropic API: streams SSE when asked, JSON otherwise.
export function anthropicHandler({ delayMs = 0, text = 'Hello there' } = {}) {
  return async (req, res, body) => {
    let parsed = {};
    try { parsed = JSON.parse(body.toString() || '{}'); } catch {}
    if (req.url.startsWith('/v1/messages/count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_count' });
      res.end(JSON.stringify({ input_tokens: 42 }));
      return;
    }
    if (parsed.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_stream1',
        'anthropic-ratelimit-unified-status': 'allowed' });
      for (const e of sseEvents(text, parsed.model)) {
        if (res.destroyed) return;
        res.write(e);
        if (delayMs) await sleep(delayMs);
      }
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_json1' });
      res.end(JSON.stringify(messageJson(text, parsed.model)));
    }
  };
}

function luaString(s) {
  return JSON.stringify(String(s)); // a JSON string literal is a valid Lua string literal for our inputs
}

// Renders a Lua value from a JS value (tables from objects/arrays; raw Lua via {lua: '...'}).
export function lua(v) {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'object' && 'lua' in v) return v.lua;
  if (typeof v === 'string') return luaString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{ ${v.map(lua).join(', ')} }`;
  return `{ ${Object.entries(v).map(([k, x]) => `[${luaString(k)}] = ${lua(x)}`).join(', ')} }`;
}

// Starts the proxy. `config` is a JS object rendered to Lua (merged over test defaults) or a
// raw Lua string. Resolves once /health answers.
export async function startProxy({ config = {}, env = {}, args = [], rawConfig = null, expectFail = false } = {}) {
  const dir = tmpdir('cp-proxy-');
  const port = config.port ?? await freePort();
  const configPath = path.join(dir, 'claude-proxy.lua');
  const full = { port, request_timeout: 5, log_level: 'debug', pid_file: path.join(dir, 'proxy.pid'), ...config };
  const text = rawConfig ?? `return ${lua(full)}\n`;
  fs.writeFileSync(configPath, text);
  const childEnv = { ...process.env, ...env };
  for (const k of ['CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_PROXY_CONFIG', 'XDG_STATE_HOME',
    'CLAUDE_PROXY_CLOCK_OFFSET']) {
    if (!(k in env)) delete childEnv[k];
  }
  childEnv.HOME = env.HOME ?? dir;
  // A Bedrock provider lists the account's inference profiles on its control plane: never the
  // real AWS from a test. Unless a test names one, that goes to a closed loopback port (the
  // listing fails at once and the static table is used, as before discovery existed).
  if (!('AWS_ENDPOINT_URL_BEDROCK' in env) && !('AWS_ENDPOINT_URL' in env)) childEnv.AWS_ENDPOINT_URL_BEDROCK = 'http://127.0.0.1:9';
  const child = spawn(PROXY_BIN, ['--config', configPath, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const proxy = {
    port, dir, configPath, child, exited,
    url: `http://127.0.0.1:${port}`,
    get output() { return output; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const r = await exited;
      return r;
    },
    writeConfig(obj) {
      fs.writeFileSync(configPath, typeof obj === 'string' ? obj : `return ${lua({ port, request_timeout: 5,
        log_level: 'debug', pid_file: path.join(dir, 'proxy.pid'), ...obj })}\n`);
    },
  };
  if (expectFail) {
    const r = await Promise.race([exited, sleep(5000).then(() => null)]);
    if (r === null) { child.kill('SIGKILL'); throw new Error(`proxy did not fail:\n${output}`); }
    return { ...proxy, result: r };
  }
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited early (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${proxy.url}/health`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`proxy did not start:\n${output}`); }
    await sleep(50);
  }
  return proxy;
}

// Stops the proxy and asserts a clean exit (under ASan a leak makes the exit status non-zero).
export async function stopProxy(proxy, assert) {
  const r = await proxy.stop();
  assert.equal(r.code, 0, `proxy exit ${JSON.stringify(r)}; output:\n${proxy.output.slice(-4000)}`);
}

// Headers for request(): a body goes as JSON, like every real client sends it, unless the test
// names its own content-type; a header given as null is left out (to send none at all).
function withBodyType(headers, body) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (v !== null && v !== undefined) out[k] = v;
  const named = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (body !== null && !named) out['content-type'] = 'application/json';
  return out;
}

// A raw HTTP request through the proxy (no client-side magic but a JSON content-type for bodies).
export function request(url, { method = 'GET', headers = {}, body = null, timeout = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: withBodyType(headers, body), agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, reason: res.statusMessage, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (body !== null) req.write(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    req.end();
  });
}

export const claudeCodeHeaders = (token = OAUTH_TOKEN) => ({
  authorization: `Bearer ${token}`,
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,thinking-token-count-2026-05-13,context-management-2025-06-27,prompt-caching-scope-2026-01-05,mid-conversation-system-2026-04-07,effort-2025-11-24,extended-cache-ttl-2025-04-11',
  'anthropic-dangerous-direct-browser-access': 'true',
  'x-app': 'cli',
  'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)',
  'x-claude-code-session-id': '3f1c2a9e-0000-4000-8000-000000000001',
  'x-stainless-arch': 'x64', 'x-stainless-lang': 'js', 'x-stainless-os': 'Linux',
  'x-stainless-package-version': '0.70.0', 'x-stainless-retry-count': '0', 'x-stainless-runtime': 'node',
  'x-stainless-runtime-version': 'v22.0.0', 'x-stainless-timeout': '600',
  accept: 'application/json', 'accept-encoding': 'gzip, deflate, br, zstd', 'content-type': 'application/json',
});

// Parses an SSE text into [{event, data}].
export function parseSse(text) {
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    const ev = { event: 'message', data: '' };
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) ev.event = line.slice(6).trim();
      else if (line.startsWith('data:')) ev.data += line.slice(5).trim();
    }
    return ev;
  });
}

// A stream that broke after it started must end with an SSE error event in Anthropic's shape, so
// that the SDK and Claude Code report it instead of taking the answer as complete.
export function assertEndsWithError(evs) {
  assert.equal(evs.at(-1).event, 'error');
  assert.equal(JSON.parse(evs.at(-1).data).type, 'error');
}

// Writes raw bytes to the proxy on one connection and collects everything it answers until it
// closes the connection or stays quiet for idleMs. Resolves { text, closed }.
export function rawExchange(port, data, { idleMs = 1000 } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let timer;
    const sock = net.connect(port, '127.0.0.1', () => sock.write(data));
    const done = (closed) => { clearTimeout(timer); sock.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }); };
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => done(false), idleMs); };
    sock.on('data', (d) => { chunks.push(d); arm(); });
    sock.on('end', () => done(true));
    sock.on('error', () => done(true));
    arm();
  });
}

// Splits raw HTTP/1.1 responses: [{ status, headers, body }], reading exactly content-length
// bytes of body (none for the responses to HEAD requests, whose indexes are in headIndexes).
export function splitResponses(text, headIndexes = []) {
  const out = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) { out.push({ garbage: text.slice(at) }); break; }
    const lines = text.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1]);
    const headers = {};
    for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
    const len = headIndexes.includes(out.length) ? 0 : Number(headers['content-length'] ?? 0);
    out.push({ status, headers, head: lines[0], body: text.slice(end + 4, end + 4 + len) });
    at = end + 4 + len;
  }
  return out;
}
