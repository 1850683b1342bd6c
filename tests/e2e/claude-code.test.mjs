// The real Claude Code CLI (npm @anthropic-ai/claude-code, pinned in package.json) as the client:
// `claude -p` through the real proxy, against a mock Anthropic and a mock Bedrock that checks
// SigV4 with @smithy/signature-v4. What the user runs, end to end, with nothing of ours on the
// client side.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock, startProxy, stopProxy, anthropicHandler, OAUTH_TOKEN, tmpdir } from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, AWS_KEYS } from './lib/bedrock-mock.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const platformPackage = `@anthropic-ai/claude-code-${process.platform}-${process.arch}`;
const CLAUDE = path.join(here, '..', 'node_modules', platformPackage, 'claude');
const skip = fs.existsSync(CLAUDE) ? false : `${platformPackage} is not installed (npm ci in tests/)`;

// Runs `claude -p PROMPT` pointed at the proxy, as proxy-claude does; resolves with its output.
// args: more arguments (--model M); env: the environment instead of the proxy's (Bedrock mode).
function claude(proxyUrl, prompt, { args = [], env: own = null } = {}) {
  const home = tmpdir('cp-claude-home-');
  const env = own ? { PATH: process.env.PATH, HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1', ...own }
    : { PATH: process.env.PATH, HOME: home, ANTHROPIC_BASE_URL: proxyUrl,
      CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1' };
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE, [...args, '-p', prompt], { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

const rateLimited = (req, res) => {
  res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '600',
    'anthropic-ratelimit-unified-status': 'rejected' });
  res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'rate limit exceeded' } }));
};

describe('Claude Code through the proxy', { skip }, () => {
  test('direct: `claude -p` gets its answer; Anthropic sees the OAuth token and its betas once', async () => {
    const anthropic = await startMock(anthropicHandler({ text: 'Hello from the mock' }));
    const proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: anthropic.url } } } });
    try {
      const r = await claude(proxy.url, 'Say hello');
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Hello from the mock/);
      const up = anthropic.requests.find((q) => q.url.startsWith('/v1/messages'));
      assert.ok(up, `Anthropic got the request: ${anthropic.requests.map((q) => q.url)}`);
      assert.equal(up.url, '/v1/messages?beta=true');
      assert.equal(up.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
      assert.equal(up.headers['x-api-key'], undefined);
      const betas = up.headers['anthropic-beta'].split(',');
      assert.equal(betas.filter((b) => b === 'oauth-2025-04-20').length, 1, betas.join(','));
      assert.ok(betas.includes('claude-code-20250219'));
      const sent = JSON.parse(up.body);
      assert.equal(sent.stream, true);
      assert.ok(up.body.length > 20000, `a real request body (${up.body.length} bytes)`);
      assert.doesNotMatch(proxy.output, new RegExp(OAUTH_TOKEN.slice(0, 24)), 'the token never reaches the log');
    } finally { await stopProxy(proxy, assert); await anthropic.close(); }
  });

  test('rate-limited: Anthropic answers 429, Bedrock serves the same turn, the next turn skips Anthropic', async () => {
    const anthropic = await startMock(rateLimited);
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: { order: ['anthropic', 'bedrock'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url },
      bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl } } },
    env: bedrockEnv() });
    try {
      const first = await claude(proxy.url, 'Say hello');
      assert.equal(first.code, 0, first.out);
      // Claude Code's default model, on InvokeModel first as Claude Code's own Bedrock mode sends it
      assert.match(first.out, /Hello from Bedrock/);
      assert.ok(bedrock.requests.some((q) => q.accepted && q.accepted.route === 'invoke'),
        bedrock.requests.map((q) => `${q.url} ${JSON.stringify(q.refused)}`).join(' '));
      assert.ok(bedrock.requests.every((q) => q.accepted), 'accepted the first time');
      const asked = anthropic.requests.length;
      assert.ok(asked >= 1);
      const served = bedrock.requests.filter((q) => q.verdict.ok);
      assert.ok(served.length >= 1, 'Bedrock served it');
      assert.ok(bedrock.requests.every((q) => q.verdict.ok), 'every signature verified by @smithy/signature-v4');
      for (const q of bedrock.requests) {
        assert.equal(q.headers.authorization.startsWith('AWS4-HMAC-SHA256 '), true);
        assert.equal(q.headers['x-api-key'], undefined, 'no client credential goes to AWS');
        assert.doesNotMatch(JSON.stringify(q.headers), /sk-ant-/);
      }
      assert.match(proxy.output, /anthropic at its plan limit \(429, quota rejected; cooldown 600s from retry-after\), using bedrock until/);

      const second = await claude(proxy.url, 'Say hello again');
      assert.equal(second.code, 0, second.out);
      assert.match(second.out, /Hello from Bedrock/);
      assert.equal(anthropic.requests.length, asked, 'Anthropic is not asked while it cools');
    } finally { await stopProxy(proxy, assert); await anthropic.close(); await bedrock.close(); }
  });

  // The strict Bedrock mock holds the shared note's rules; what Claude Code's own Bedrock mode
  // sends (Anthropic ships it against real Bedrock) must pass them, or the mock is wrong.
  test('calibration: the CLI\'s own Bedrock mode passes the strict mock, for every model family', async () => {
    const bedrock = await startBedrockMock();
    try {
      // 4.5 and older by their Bedrock id: given a bare name this CLI puts it in the path as is
      // (/model/claude-haiku-4-5/...), which Bedrock refuses, and so does the mock
      for (const model of [null, 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-fable-5-2', 'claude-opus-4-8',
        'claude-sonnet-4-6', 'claude-opus-4-6', 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0']) {
        const before = bedrock.requests.length;
        const r = await claude(null, 'Say hello', { args: model ? ['--model', model] : [], env: {
          CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_BEDROCK_BASE_URL: bedrock.url, AWS_REGION: 'us-west-2',
          AWS_ACCESS_KEY_ID: AWS_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_KEYS.secretAccessKey,
          AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } });
        const seen = bedrock.requests.slice(before);
        const summary = seen.map((q) => `${q.method} ${q.url} ${JSON.stringify(q.refused || 'ok')}`).join('\n');
        assert.equal(r.code, 0, `${model}: ${r.out}\n${summary}`);
        assert.match(r.out, /Hello from Bedrock/);
        const turn = seen.find((q) => q.url.endsWith('/invoke-with-response-stream'));
        assert.ok(turn && turn.accepted, `${model}: the turn was accepted\n${summary}`);
        assert.ok(seen.every((q) => q.verdict.ok && (q.method === 'GET' || q.accepted)), `${model}: every request passed\n${summary}`);
        if (model === null) assert.equal(turn.url, '/model/us.anthropic.claude-opus-5-5/invoke-with-response-stream');
      }
    } finally { await bedrock.close(); }
  });

  test('rate-limited: each model family falls back to Bedrock, accepted the first time, on InvokeModel', async () => {
    const anthropic = await startMock(rateLimited);
    const bedrock = await startBedrockMock();
    const proxy = await startProxy({ config: { order: ['anthropic', 'bedrock'], providers: {
      anthropic: { type: 'anthropic', base_url: anthropic.url },
      bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: bedrock.url, mantle_endpoint: bedrock.mantleUrl,
        list_profiles: false } } }, env: bedrockEnv() });
    try {
      for (const [model, id] of [[null, 'claude-sonnet-5-5'], ['claude-opus-5-5', 'claude-opus-5-5'],
        ['claude-haiku-5-5', 'claude-haiku-5-5'], ['claude-fable-5-2', 'claude-fable-5-2'],
        ['claude-opus-4-8', 'claude-opus-4-8'], ['claude-sonnet-4-6', 'claude-sonnet-4-6'],
        ['claude-opus-4-6', 'claude-opus-4-6-v1'], ['claude-haiku-4-5', 'claude-haiku-4-5-20251001-v1%3A0'],
        ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929-v1%3A0']]) {
        const before = bedrock.requests.length;
        const r = await claude(proxy.url, 'Say hello', { args: model ? ['--model', model] : [] });
        const seen = bedrock.requests.slice(before);
        const summary = seen.map((q) => `${q.url} ${JSON.stringify(q.refused || 'ok')}`).join('\n');
        assert.equal(r.code, 0, `${model}: ${r.out}\n${summary}`);
        assert.match(r.out, /Hello from Bedrock/);
        assert.ok(seen.length >= 1 && seen.every((q) => q.accepted), `${model}: accepted the first time\n${summary}`);
        assert.ok(seen.some((q) => q.url === `/model/us.anthropic.${id}/invoke-with-response-stream`), `${model}\n${summary}`);
      }
    } finally { await stopProxy(proxy, assert); await anthropic.close(); await bedrock.close(); }
  });
});
