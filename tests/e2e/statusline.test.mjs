// `claude-proxy statusline` as Claude Code runs it: the session JSON on stdin, one line out, fast,
// against a running proxy (quota from the upstream's headers, the serving provider) and a
// stopped one.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startMock, startProxy, stopProxy, request, anthropicHandler, OAUTH_TOKEN, PROXY_BIN, freePort, tmpdir }
  from './lib/harness.mjs';
import fs from 'node:fs';
import path from 'node:path';

const SESSION = JSON.stringify({ session_id: 'abc', model: { id: 'claude-sonnet-5-5', display_name: 'Sonnet 5.5' },
  workspace: { current_dir: '/tmp' } });

// Runs the command as Claude Code does; resolves { out, code, ms }.
function statusline(configPath, stdin = SESSION) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(PROXY_BIN, ['statusline', '--config', configPath], { env: { ...process.env, TZ: 'UTC' },
      stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ out, code, ms: performance.now() - t0 }));
    child.stdin.end(stdin);
  });
}

const hhmm = (epoch) => new Date(epoch * 1000).toISOString().slice(11, 16);
const dayHhmm = (epoch) => `${new Date(epoch * 1000).toUTCString().slice(0, 3)} ${hhmm(epoch)}`;

function okWith(headers) {
  const inner = anthropicHandler();
  return (req, res, b) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (status, h) => writeHead(status, { ...h, ...headers });
    return inner(req, res, b);
  };
}

// The median wall time of a few runs of the command, and of `claude-proxy --version` (starting the
// binary at all) interleaved with them: on a busy machine process start alone can take 100 ms, so
// the bound is on what the command adds to it, and both figures are printed.
function run(args, stdin = SESSION) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(PROXY_BIN, args, { env: { ...process.env, TZ: 'UTC' }, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
    // --version exits without reading its input: a write after that is EPIPE, not a failure
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}
// What the command may add to starting the binary (sanitizers slow Lua and the rest many times).
const ADDED_MS = process.env.ASAN_OPTIONS ? 400 : 50;
async function timing(configPath, what, runs = 9) {
  const line = [], start = [];
  for (let i = 0; i < runs; i++) {
    start.push(await run(['--version']));
    line.push(await run(['statusline', '--config', configPath]));
  }
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const r = { line: med(line), start: med(start) };
  console.log(`# statusline, ${what}: median ${r.line.toFixed(1)} ms; starting the binary (--version): ` +
    `${r.start.toFixed(1)} ms; the command adds ${(r.line - r.start).toFixed(1)} ms`);
  return r;
}

describe('claude-proxy statusline', () => {
  test('a stopped proxy: one clear short line, quickly', async () => {
    const dir = tmpdir();
    const port = await freePort();
    const configPath = path.join(dir, 'claude-proxy.lua');
    fs.writeFileSync(configPath, `return { port = ${port}, providers = { anthropic = { type = "anthropic" } } }\n`);
    const r = await statusline(configPath);
    assert.equal(r.code, 0);
    assert.equal(r.out, `claude-proxy: not running on 127.0.0.1:${port}\n`);
    const t = await timing(configPath, 'proxy stopped');
    assert.ok(t.line - t.start < ADDED_MS, JSON.stringify(t));
  });

  test('a running proxy: serving provider, 5h and 7d with their resets in local time; after a plan limit, the fallback', async () => {
    const now = Math.floor(Date.now() / 1000);
    const reset5h = now + 2 * 3600, reset7d = now + 3 * 86400;
    const primary = await startMock(okWith({
      'anthropic-ratelimit-unified-status': 'allowed',
      'anthropic-ratelimit-unified-5h-utilization': '0.42', 'anthropic-ratelimit-unified-5h-reset': String(reset5h),
      'anthropic-ratelimit-unified-5h-status': 'allowed',
      'anthropic-ratelimit-unified-7d-utilization': '0.12', 'anthropic-ratelimit-unified-7d-reset': String(reset7d),
      'anthropic-ratelimit-unified-7d-status': 'allowed',
    }));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: { order: ['primary', 'backup'], cooldown_max: 86400, providers: {
      primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN },
      backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN } } } });
    try {
      let r = await statusline(proxy.configPath);
      assert.equal(r.out, 'Sonnet 5.5 → primary\n', 'no quota known yet');
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: { model: 'claude-sonnet-5', max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }] } });
      r = await statusline(proxy.configPath);
      assert.equal(r.out, `Sonnet 5.5 → primary · 5h 42% (resets ${hhmm(reset5h)}) · 7d 12% (resets ${dayHhmm(reset7d)})\n`);
      assert.equal(r.out.split('\n').length, 2, 'one line');
      r = await statusline(proxy.configPath, '');
      assert.match(r.out, /^→ primary · 5h 42%/, 'no session JSON: no model name');
      const t = await timing(proxy.configPath, 'proxy running');
      assert.ok(t.line - t.start < ADDED_MS, JSON.stringify(t));
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }

    // the plan limit: the primary cools until its 5h reset, the backup serves
    const limited = await startMock((req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'anthropic-ratelimit-unified-status': 'rejected',
        'anthropic-ratelimit-unified-5h-status': 'rejected', 'anthropic-ratelimit-unified-5h-utilization': '1.01',
        'anthropic-ratelimit-unified-5h-reset': String(reset5h) });
      res.end('{"type":"error","error":{"type":"rate_limit_error","message":"rate limit"}}');
    });
    const backup2 = await startMock(anthropicHandler());
    const proxy2 = await startProxy({ config: { order: ['primary', 'backup'], cooldown_max: 86400, providers: {
      primary: { type: 'anthropic', base_url: limited.url, token: OAUTH_TOKEN },
      backup: { type: 'anthropic', base_url: backup2.url, token: OAUTH_TOKEN } } } });
    try {
      await request(`${proxy2.url}/v1/messages`, { method: 'POST', body: { model: 'claude-sonnet-5', max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }] } });
      const r = await statusline(proxy2.configPath);
      assert.equal(r.out, `Sonnet 5.5 → backup (primary back ${hhmm(reset5h)}) · 5h 101% limit (resets ${hhmm(reset5h)})\n`);
    } finally {
      await stopProxy(proxy2, assert);
      await limited.close(); await backup2.close();
    }
  });

  test('something that is not the proxy on the port: a short line within the time limit', async () => {
    // accepts and never answers
    const silent = await startMock(() => {});
    const dir = tmpdir();
    const configPath = path.join(dir, 'claude-proxy.lua');
    fs.writeFileSync(configPath, `return { port = ${silent.port}, providers = { anthropic = { type = "anthropic" } } }\n`);
    try {
      const r = await statusline(configPath);
      assert.equal(r.out, `claude-proxy: no answer on 127.0.0.1:${silent.port}\n`);
      assert.ok(r.ms < 1000, `${r.ms} ms: bounded by the 200 ms limit plus process start`);
    } finally { await silent.close(); }
  });
});
