// `claude-proxy doctor` end to end: the real binary against the project's mocks (Anthropic, the
// Bedrock runtime and control plane, STS), healthy and with each failure it must name, its fix
// line and exit status; --json parsed; no secret in any output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startMock, anthropicHandler, startProxy, stopProxy, OAUTH_TOKEN, PROXY_BIN, lua, tmpdir, freePort,
} from './lib/harness.mjs';
import { startBedrockMock, bedrockEnv, AWS_KEYS } from './lib/bedrock-mock.mjs';
import { startControlPlaneMock, profileIds } from './lib/bedrock-control-mock.mjs';
import { startStsMock, IDENTITY } from './lib/sts-mock.mjs';

const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjDOCTORSESSIONsecret0123456789';
const SECRETS = [OAUTH_TOKEN, OAUTH_TOKEN.slice(0, 30), AWS_KEYS.secretAccessKey, SESSION_TOKEN, 'Signature='];

const ACCOUNT = profileIds({
  'anthropic.claude-sonnet-5-5': ['us', 'global'],
  'anthropic.claude-opus-5-5': ['global'],
  'anthropic.claude-haiku-4-5-20251001-v1:0': ['us'],
});

// An Anthropic mock that knows one token, with the quota headers of a subscription.
function anthropic({ token = OAUTH_TOKEN } = {}) {
  const ok = anthropicHandler();
  return (req, res, body, record) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
      return undefined;
    }
    if (req.url.startsWith('/v1/messages') && !req.url.includes('count_tokens')) {
      const reset = Math.floor(Date.UTC(2026, 11, 2, 14, 0, 0) / 1000);
      res.setHeader('anthropic-ratelimit-unified-status', 'allowed');
      res.setHeader('anthropic-ratelimit-unified-5h-utilization', '0.23');
      res.setHeader('anthropic-ratelimit-unified-5h-reset', String(reset));
      res.setHeader('anthropic-ratelimit-unified-7d-utilization', '0.41');
      res.setHeader('anthropic-ratelimit-unified-7d-reset', String(reset + 3 * 86400));
    }
    return ok(req, res, body, record);
  };
}

async function mocks({ ids = ACCOUNT, refuseListing = false, refuseSts = false, runtimeBehaviour = null, invokeLineup = null,
  apiKey = null } = {}) {
  const m = {
    anthropic: await startMock(anthropic()),
    runtime: await startBedrockMock({ behaviour: runtimeBehaviour, invokeLineup, apiKey }),
    control: await startControlPlaneMock({ ids, refuse: refuseListing }),
    sts: await startStsMock({ refuse: refuseSts }),
  };
  m.close = async () => { for (const x of [m.anthropic, m.runtime, m.control, m.sts]) await x.close(); };
  return m;
}

function config(m, { port, anthropicExtra = {}, bedrockExtra = {} } = {}) {
  return { ...(port ? { port } : {}), request_timeout: 5, providers: {
    anthropic: { type: 'anthropic', base_url: m.anthropic.url, token: OAUTH_TOKEN, ...anthropicExtra },
    bedrock: { type: 'bedrock', region: 'us-west-2', endpoint: m.runtime.url, mantle_endpoint: m.runtime.url,
      control_endpoint: m.control.url, ...bedrockExtra },
  }, order: ['anthropic', 'bedrock'] };
}

// Runs the doctor (asynchronously: the mocks live in this process). cfg: an object or Lua text.
async function doctor(m, cfg, { args = [], env = {}, file = null } = {}) {
  const dir = tmpdir('cp-doctor-');
  const configPath = file ?? path.join(dir, 'claude-proxy.lua');
  if (!file) fs.writeFileSync(configPath, typeof cfg === 'string' ? cfg : `return ${lua({ port: await freePort(), ...cfg })}\n`);
  const childEnv = { ...process.env, ...bedrockEnv({ AWS_SESSION_TOKEN: SESSION_TOKEN }), AWS_ENDPOINT_URL_STS: m.sts.url,
    HOME: dir, ...env };
  for (const k of ['CLAUDE_CODE_OAUTH_TOKEN', 'CLAUDE_PROXY_CONFIG', 'AWS_ENDPOINT_URL']) if (!(k in env)) delete childEnv[k];
  for (const [k, v] of Object.entries(childEnv)) if (v === null) delete childEnv[k];
  return new Promise((resolve) => {
    const child = spawn(PROXY_BIN, ['doctor', '--config', configPath, ...args], { env: childEnv });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (status) => {
      for (const s of SECRETS) assert.ok(!stdout.includes(s) && !stderr.includes(s), `the output leaks ${s}:\n${stdout}${stderr}`);
      resolve({ stdout, stderr, status, dir });
    });
  });
}

// The line of a check and the fix line under it.
function line(out, re) {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line ${re} in:\n${out}`);
  return { text: lines[i], fix: (lines[i + 1] || '').trim().startsWith('fix:') ? lines[i + 1].trim() : null };
}

describe('claude-proxy doctor', () => {
  let m;
  before(async () => { m = await mocks(); });
  after(async () => { await m.close(); });

  test('a healthy setup: every check passes, the running proxy is seen, exit 0', async () => {
    const port = await freePort();
    const proxy = await startProxy({ config: config(m, { port }), env: bedrockEnv() });
    const r = await doctor(m, null, { file: proxy.configPath });
    await stopProxy(proxy, assert);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const re of [/✓ config: .* loads and validates/, /✓ provider order: anthropic → bedrock/,
      /✓ a proxy is running on http:\/\/127\.0\.0\.1:\d+ \(its \/health: ok/,
      /✓ token: an OAuth token \.\.\.CRET from the config/, /✓ Anthropic accepts the token \(count_tokens answered 200/,
      /✓ credentials: env, access key \.\.\.MPLE with a session token, no expiry/,
      new RegExp(`✓ identity: ${IDENTITY.arn.replace(/[/]/g, '\\/')} \\(account ${IDENTITY.account}\\)`),
      /✓ inference profiles: 4 listed at .*, 4 of Claude models/,
      /✓ claude-sonnet-5-5 → invoke us\.anthropic\.claude-sonnet-5-5 \(listed for this account\)/,
      /✓ claude-haiku-4-5 → invoke us\.anthropic\.claude-haiku-4-5-20251001-v1:0/,
      /^✓ fallback ready for claude-sonnet-5-5, claude-opus-5-5, claude-haiku-4-5 \(bedrock\)$/m]) {
      line(r.stdout, re);
    }
    assert.ok(!r.stdout.includes('✗'), r.stdout);
    // no request that costs quota without --probe: count_tokens only, no InvokeModel
    assert.ok(m.anthropic.requests.every((q) => q.url.includes('count_tokens')));
    assert.equal(m.runtime.requests.length, 0);
    const sts = m.sts.requests.at(-1);
    assert.deepEqual(sts.verdict, { ok: true }, 'STS request signed for service sts');
    assert.equal(sts.headers['x-amz-security-token'], SESSION_TOKEN);
  });

  test('a proxy listening on every IPv6 (and IPv4) interface is found on its loopback address', async () => {
    const port = await freePort();
    const proxy = await startProxy({ config: { ...config(m, { port }), listen: '::' }, env: bedrockEnv() });
    const r = await doctor(m, null, { file: proxy.configPath });
    await stopProxy(proxy, assert);
    line(r.stdout, new RegExp(`✓ listen: http://\\[::\\]:${port}$`, 'm'));
    line(r.stdout, new RegExp(`✓ a proxy is running on http://\\[::\\]:${port} \\(its /health: ok`));
  });

  test('--json gives the same as data', async () => {
    const r = await doctor(m, config(m), { args: ['--json', '--model', 'claude-opus-4-6'] });
    assert.equal(r.status, 0, r.stdout);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ready, true);
    assert.match(j.summary, /^fallback ready for claude-sonnet-5-5, claude-opus-5-5, claude-haiku-4-5, claude-opus-4-6/);
    assert.ok(j.checks.length >= 10);
    for (const c of j.checks) assert.ok(['ok', 'fail', 'skip'].includes(c.status) && c.section && c.text);
    const opus = j.models.find((x) => x.model === 'claude-opus-4-6');
    assert.equal(opus.provider, 'bedrock');
    assert.equal(opus.route, 'invoke');
    assert.equal(opus.id, 'us.anthropic.claude-opus-4-6-v1');
    assert.deepEqual(j.models.find((x) => x.model === 'claude-sonnet-5-5'),
      { provider: 'bedrock', model: 'claude-sonnet-5-5', route: 'invoke', id: 'us.anthropic.claude-sonnet-5-5' });
  });

  test('--probe: a one-token request per model (and the quota as the status line shows it)', async () => {
    const before = m.runtime.requests.length;
    const r = await doctor(m, config(m), { args: ['--probe'] });
    assert.equal(r.status, 0, r.stdout);
    assert.match(line(r.stdout, /✓ probe \(claude-haiku-4-5, max_tokens 1\): 200/).text,
      /quota: allowed · 5h 23% \(resets 2026-12-02 14:00 UTC\) · 7d 41% \(resets 2026-12-05 14:00 UTC\)/);
    line(r.stdout, /✓ claude-sonnet-5-5 → invoke us\.anthropic\.claude-sonnet-5-5: probe \(max_tokens 1\) served by invoke/);
    const probes = m.runtime.requests.slice(before);
    assert.equal(probes.length, 3);
    for (const q of probes) {
      assert.deepEqual(q.verdict, { ok: true });
      assert.equal(q.json.max_tokens, 1);
    }
  });

  test('a refused token: ✗, its fix, exit 1', async () => {
    const r = await doctor(m, config(m, { anthropicExtra: { token: 'sk-ant-oat01-WRONGtoken0123456789abcdefWRONG' } }));
    assert.equal(r.status, 1);
    const l = line(r.stdout, /✗ Anthropic refuses the token \(401: invalid x-api-key\)/);
    assert.match(l.fix, /fix: get a new token: `claude setup-token`/);
    assert.match(r.stdout, /^✗ not ready: the first provider is not usable$/m);
    assert.ok(!r.stdout.includes('WRONGtoken0123456789'));
  });

  test('a token of neither shape: ✗ and its fix', async () => {
    const r = await doctor(m, config(m, { anthropicExtra: { token: 'not-a-claude-token-0123456789' } }));
    assert.equal(r.status, 1);
    const l = line(r.stdout, /✗ token: \.\.\.6789 from the config .* has the shape of neither an OAuth token/);
    assert.match(l.fix, /claude setup-token/);
  });

  test('a token file others can read: the config does not load, ✗ with chmod as the fix, exit 1', async () => {
    const dir = tmpdir('cp-doctor-home-');
    fs.mkdirSync(path.join(dir, '.config/claude-proxy'), { recursive: true });
    const tokenFile = path.join(dir, '.config/claude-proxy/token');
    fs.writeFileSync(tokenFile, `${OAUTH_TOKEN}\n`, { mode: 0o644 });
    fs.chmodSync(tokenFile, 0o644);
    const cfg = `local util = require "util"\nreturn ${lua({ port: await freePort(), providers: { anthropic: {
      type: 'anthropic', base_url: m.anthropic.url, token: { lua: 'util.oauth_token()' } } } })}\n`;
    let r = await doctor(m, cfg, { env: { HOME: dir } });
    assert.equal(r.status, 1);
    const l = line(r.stdout, /✗ config .*: .*token holds a secret but is readable by other users \(mode 0644\)/);
    assert.match(l.text, /run: chmod 600/);
    assert.match(l.fix, /fix: correct it, then check again with: claude-proxy --check --config/);
    assert.match(r.stdout, /^✗ not ready: the config does not load$/m);
    // with mode 0600 the token file is named as the token's source
    fs.chmodSync(tokenFile, 0o600);
    r = await doctor(m, cfg, { env: { HOME: dir } });
    line(r.stdout, /✓ token: an OAuth token \.\.\.CRET from the token file .*\/\.config\/claude-proxy\/token \(mode 0600\)/);
    assert.equal(r.status, 1, 'no fallback provider in this config');
    assert.match(r.stdout, /^✗ not ready: no fallback provider is configured$/m);
  });

  test('no AWS credentials: ✗ credentials with what to set, exit 1', async () => {
    const r = await doctor(m, config(m), { env: { AWS_ACCESS_KEY_ID: null, AWS_SECRET_ACCESS_KEY: null,
      AWS_SESSION_TOKEN: null } });
    assert.equal(r.status, 1);
    const l = line(r.stdout, /✗ credentials \(none\): /);
    assert.match(l.fix, /fix: set AWS_PROFILE .*`aws sso login/);
    assert.match(r.stdout, /^✗ not ready: no fallback provider serves Claude Code's default model claude-sonnet-5-5$/m);
  });

  test('a Bedrock API key: reported by source and last characters, no STS, --probe proves it (it crashed)', async () => {
    const KEY = 'ABSKQmVkcm9ja0FQSUtleS1kb2N0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OQ==';
    const k = await mocks({ apiKey: KEY });
    try {
      const env = { AWS_BEARER_TOKEN_BEDROCK: KEY, AWS_ACCESS_KEY_ID: null, AWS_SECRET_ACCESS_KEY: null, AWS_SESSION_TOKEN: null };
      const stsBefore = k.sts.requests.length;
      const r = await doctor(k, config(k), { env });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      line(r.stdout, /✓ credentials: api key \(AWS_BEARER_TOKEN_BEDROCK\) \.\.\.OQ==, sent as Authorization: Bearer/);
      line(r.stdout, /– identity: not asked \(STS takes SigV4 credentials, not a Bedrock API key\)/);
      line(r.stdout, /– inference profiles: not listed \(the control plane takes SigV4 credentials, not an API key\)/);
      line(r.stdout, /✓ claude-sonnet-5-5 → invoke us\.anthropic\.claude-sonnet-5-5/);
      assert.equal(k.sts.requests.length, stsBefore, 'no STS request with an API key');
      const p = await doctor(k, config(k), { env, args: ['--probe'] });
      assert.equal(p.status, 0, p.stdout + p.stderr);
      line(p.stdout, /✓ claude-sonnet-5-5 → invoke us\.anthropic\.claude-sonnet-5-5: probe \(max_tokens 1\) served by invoke/);
      const probes = k.runtime.requests.filter((q) => q.json && q.json.max_tokens === 1);
      assert.ok(probes.length >= 3);
      for (const q of probes) assert.deepEqual(q.verdict, { ok: true, apiKey: true });
      for (const out of [r.stdout + r.stderr, p.stdout + p.stderr]) assert.ok(!out.includes(KEY.slice(0, 20)), out);
    } finally { await k.close(); }
  });

  test('credentials STS refuses: ✗ identity with AWS\'s words, exit 1', async () => {
    const bad = await mocks({ refuseSts: true });
    try {
      const r = await doctor(bad, config(bad));
      assert.equal(r.status, 1);
      const l = line(r.stdout, /✗ identity: STS refuses the credentials \(403 The security token included in the request is invalid\.\)/);
      assert.match(l.fix, /renew them/);
    } finally { await bad.close(); }
  });

  test('a listing the identity may not make: ✗ with the permission to add; the static table still serves', async () => {
    const bad = await mocks({ refuseListing: true });
    try {
      const r = await doctor(bad, config(bad));
      const l = line(r.stdout, /✗ inference profiles: cannot be listed: ListInferenceProfiles answered 403 AccessDeniedException/);
      assert.match(l.fix, /allow bedrock:ListInferenceProfiles for this identity/);
      assert.equal(r.status, 0, 'the static table still names an id for every model');
      line(r.stdout, /✓ claude-haiku-4-5 → invoke us\.anthropic\.claude-haiku-4-5-20251001-v1:0; then runtime, mantle$/);
    } finally { await bad.close(); }
  });

  test('a region where the account lacks the default model: ✗ for that model, exit 1', async () => {
    const bad = await mocks({ ids: profileIds({ 'anthropic.claude-haiku-4-5-20251001-v1:0': ['us'],
      'anthropic.claude-sonnet-4-5-20250929-v1:0': ['us'] }) });
    try {
      const r = await doctor(bad, config(bad, { bedrockExtra: { region_prefix: 'us' } }),
        { args: ['--model', 'claude-sonnet-4-5'] });
      assert.equal(r.status, 1);
      line(r.stdout, /✓ claude-sonnet-4-5 → invoke us\.anthropic\.claude-sonnet-4-5-20250929-v1:0 \(listed/);
      const l = line(r.stdout, /✗ claude-sonnet-5-5 → \w+ [\w.-]*anthropic\.claude-sonnet-5-5: not among the account's inference profiles/);
      assert.match(l.fix, /enable the model in the Bedrock console for this region/);
      assert.match(r.stdout, /^✗ not ready: no fallback provider serves Claude Code's default model claude-sonnet-5-5$/m);
    } finally { await bad.close(); }
  });

  test('--probe: AWS\'s own refusal text for a model without access, exit 1', async () => {
    const denied = await mocks({ runtimeBehaviour: (record) => (record.url.includes('claude-sonnet-5-5') ? (req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
      res.end(JSON.stringify({ message: "You don't have access to the model with the specified model ID." }));
    } : null) });
    try {
      const r = await doctor(denied, config(denied), { args: ['--probe'] });
      assert.equal(r.status, 1);
      const l = line(r.stdout, /✗ claude-sonnet-5-5 → invoke us\.anthropic\.claude-sonnet-5-5: probe refused: 403 AccessDeniedException on invoke \(us\.anthropic\.claude-sonnet-5-5\): You don't have access to the model with the specified model ID\./);
      assert.match(l.fix, /request access to this model in the Bedrock console/);
      line(r.stdout, /✓ claude-haiku-4-5 → .*served by invoke/);
    } finally { await denied.close(); }
  });

  test('--probe: a route that refuses the model, and the later route that serves it', async () => {
    const lineup = ['anthropic.claude-sonnet-5-5', 'anthropic.claude-haiku-4-5-20251001-v1:0']; // no Opus 5.5 on InvokeModel
    const partial = await mocks({ invokeLineup: lineup });
    try {
      const r = await doctor(partial, config(partial), { args: ['--probe', '--json'] });
      assert.equal(r.status, 0, r.stdout);
      const j = JSON.parse(r.stdout);
      const opus = j.models.find((x) => x.model === 'claude-opus-5-5');
      assert.equal(opus.route, 'invoke', 'the route tried first');
      assert.match(opus.probe, /^served by runtime \(global\.anthropic\.claude-opus-5-5\)$/);
      const c = j.checks.find((x) => x.text.startsWith('claude-opus-5-5'));
      assert.equal(c.status, 'ok');
      assert.match(c.text, /first refused: 400 ValidationException on invoke \(global\.anthropic\.claude-opus-5-5\)/);
      const hosts = partial.runtime.requests.filter((q) => q.json?.max_tokens === 1).map((q) => q.url);
      assert.ok(hosts.includes('/model/global.anthropic.claude-opus-5-5/invoke') && hosts.includes('/anthropic/v1/messages'), hosts.join());
    } finally { await partial.close(); }
  });

  test('a config that does not load: ✗ with file:line, exit 1', async () => {
    const r = await doctor(m, 'return { port = ,\n}\n');
    assert.equal(r.status, 1);
    const l = line(r.stdout, /✗ config .*claude-proxy\.lua: .*claude-proxy\.lua:1:/);
    assert.match(l.fix, /claude-proxy --check/);
  });

  test('usage errors exit 2', async () => {
    const r = await doctor(m, config(m), { args: ['--frobnicate'] });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: claude-proxy doctor/);
  });
});
