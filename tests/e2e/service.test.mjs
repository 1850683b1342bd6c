// Running it like a service: the proxy-claude wrapper, the systemd unit, the LaunchAgent plist,
// the Homebrew formula, and `update-token` (which must reach the running proxy).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { SOURCE_DIR, PROXY_BIN, tmpdir, freePort, startMock, startProxy, stopProxy, request, anthropicHandler,
  sleep } from './lib/harness.mjs';

const WRAPPER = path.join(SOURCE_DIR, 'packaging/proxy-claude');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// A fake `claude` that records its arguments and environment, then exits with $FAKE_EXIT.
function fakeClaude() {
  const dir = tmpdir('cp-fake-');
  const record = path.join(dir, 'record.json');
  fs.writeFileSync(path.join(dir, 'claude'), `#!/usr/bin/env node
require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2),
  base: process.env.ANTHROPIC_BASE_URL, bedrock: process.env.CLAUDE_CODE_USE_BEDROCK ?? null }));
process.exit(Number(process.env.FAKE_EXIT || 0));
`, { mode: 0o755 });
  return { dir, record };
}

// Like spawnSync, but keeps this process's event loop running (the mock /health lives here).
function run(bin, args, opts) {
  return new Promise((resolve) => {
    const c = spawn(bin, args, opts);
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function healthServer() {
  const srv = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

describe('proxy-claude', () => {
  test('passes arguments, environment and exit status through, also via a symlink', async () => {
    const fake = fakeClaude();
    const srv = await healthServer();
    const port = srv.address().port;
    try {
      const linkDir = tmpdir('cp-link-');
      fs.symlinkSync(WRAPPER, path.join(linkDir, 'proxy-claude'));
      for (const bin of [WRAPPER, path.join(linkDir, 'proxy-claude')]) {
        const r = await run(bin, ['-p', 'two words', '--model', "it's \"quoted\"", ''], { cwd: '/',
          env: { ...process.env, PATH: `${fake.dir}:${process.env.PATH}`, PROXY_PORT: String(port),
            CLAUDE_CODE_USE_BEDROCK: '1', FAKE_EXIT: '7' } });
        assert.equal(r.status, 7, r.stderr);
        const rec = JSON.parse(fs.readFileSync(fake.record));
        assert.deepEqual(rec.args, ['-p', 'two words', '--model', "it's \"quoted\"", '']);
        assert.equal(rec.base, `http://localhost:${port}`);
        assert.equal(rec.bedrock, null, 'CLAUDE_CODE_USE_BEDROCK is unset');
        fs.rmSync(fake.record);
      }
    } finally { srv.close(); }
  });

  test('when the proxy is down: says so and how to start it, and does not run claude', async () => {
    const fake = fakeClaude();
    const port = await freePort();
    const r = spawnSync(WRAPPER, ['hello'], { encoding: 'utf8', env: { ...process.env,
      PATH: `${fake.dir}:${process.env.PATH}`, PROXY_PORT: String(port) } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`not answering on http://localhost:${port}/health`));
    assert.match(r.stderr, /make start/);
    assert.match(r.stderr, /brew services start claude-proxy/);
    assert.ok(!fs.existsSync(fake.record), 'claude did not run');
  });

  test('--proxy-start starts the real proxy first (found beside the wrapper)', async () => {
    const fake = fakeClaude();
    const port = await freePort();
    const bindir = tmpdir('cp-bin-');
    fs.copyFileSync(WRAPPER, path.join(bindir, 'proxy-claude'));
    fs.chmodSync(path.join(bindir, 'proxy-claude'), 0o755);
    fs.symlinkSync(PROXY_BIN, path.join(bindir, 'claude-proxy'));
    const home = tmpdir('cp-home-');
    const r = spawnSync(path.join(bindir, 'proxy-claude'), ['--proxy-start', '-p', 'hi'], { encoding: 'utf8',
      env: { ...process.env, HOME: home, PATH: `${fake.dir}:${process.env.PATH}`, PROXY_PORT: String(port),
        CLAUDE_PROXY_CONFIG: '' } });
    try {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(fs.readFileSync(fake.record)).args, ['-p', 'hi'], '--proxy-start is not passed on');
      const h = await request(`http://127.0.0.1:${port}/health`);
      assert.equal(h.json.status, 'ok');
    } finally {
      spawnSync('pkill', ['-TERM', '-f', `${bindir}/claude-proxy`]);
      await sleep(200);
    }
  });
});

describe('packaging files', () => {
  test('the systemd unit is valid and holds no secret', () => {
    const text = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/systemd/claude-proxy.service'), 'utf8');
    assert.doesNotMatch(text, /sk-ant|TOKEN=|SECRET/);
    for (const k of ['ExecStart=@BINDIR@/claude-proxy', 'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure',
      'Environment=PROXY_PORT=@PORT@', 'WantedBy=default.target']) assert.ok(text.includes(k), k);
    const sections = text.split('\n').filter((l) => /^\[/.test(l));
    assert.deepEqual(sections, ['[Unit]', '[Service]', '[Install]']);
    if (!has('systemd-analyze')) return;
    const dir = tmpdir('cp-unit-');
    fs.writeFileSync(path.join(dir, 'claude-proxy'), '#!/bin/sh\n', { mode: 0o755 });
    const unit = path.join(dir, 'claude-proxy.service');
    fs.writeFileSync(unit, text.replaceAll('@BINDIR@', dir).replaceAll('@PORT@', '47000'));
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('the LaunchAgent plist is a well-formed plist and holds no secret', () => {
    const text = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/launchd/com.claude-proxy.plist'), 'utf8');
    assert.doesNotMatch(text, /sk-ant|TOKEN|SECRET/);
    const dir = tmpdir('cp-plist-');
    const file = path.join(dir, 'p.plist');
    fs.writeFileSync(file, text.replaceAll('@BINDIR@', '/opt/bin').replaceAll('@CONFIG@', '/c.lua')
      .replaceAll('@LOGDIR@', '/logs').replaceAll('@PORT@', '47000'));
    const out = execFileSync('python3', ['-c', 'import plistlib,sys,json; p=plistlib.load(open(sys.argv[1],"rb")); print(json.dumps(p))', file]);
    const p = JSON.parse(out);
    assert.equal(p.Label, 'com.claude-proxy');
    assert.deepEqual(p.ProgramArguments, ['/opt/bin/claude-proxy', '--config', '/c.lua']);
    assert.equal(p.KeepAlive, true);
    assert.equal(p.RunAtLoad, true);
    assert.equal(p.EnvironmentVariables.PROXY_PORT, '47000');
  });

  test('the Homebrew formula matches the project (dependencies, installed paths, service, test)', () => {
    const rb = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/homebrew/claude-proxy.rb'), 'utf8');
    const cmake = fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8');
    // each pkg-config module CMake needs has a Homebrew dependency providing it
    const provides = { libuv: 'libuv', openssl: 'openssl@3', libcjson: 'cjson', 'lua5.4 lua-5.4 lua54 lua>=5.4': 'lua' };
    for (const [module, formula] of Object.entries(provides)) {
      assert.ok(cmake.includes(module.split(' ')[0]), `CMake uses ${module}`);
      assert.match(rb, new RegExp(`depends_on "${formula.replace('@', '@')}"`), formula);
    }
    assert.match(rb, /resource "h2o"/);
    assert.match(rb, /-DLIBUV=ON/);
    for (const p of ['lua', 'etc/claude-proxy.lua', 'packaging/proxy-claude']) {
      assert.ok(rb.includes(p), `formula installs ${p}`);
      assert.ok(fs.existsSync(path.join(SOURCE_DIR, p)), `${p} exists in the repo`);
    }
    assert.match(rb, /service do[\s\S]*keep_alive true[\s\S]*log_path[\s\S]*error_log_path[\s\S]*PROXY_PORT/);
    assert.match(rb, /test do[\s\S]*\/health/);
    if (has('ruby')) {
      const r = spawnSync('ruby', ['-c', path.join(SOURCE_DIR, 'packaging/homebrew/claude-proxy.rb')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  });
});

describe('update-token', () => {
  test('writes the token with mode 0600 and the running proxy picks it up after reload', async () => {
    const mock = await startMock(anthropicHandler());
    const confDir = tmpdir('cp-conf-');
    fs.chmodSync(confDir, 0o700);
    const tokenFile = path.join(confDir, 'token');
    fs.writeFileSync(tokenFile, 'sk-ant-oat01-OLDTOKENOLDTOKENOLD\n', { mode: 0o600 });
    const raw = (port, pidFile) => `local util = require "util"
return { port = ${port}, pid_file = ${JSON.stringify(pidFile)}, order = { "anthropic" }, providers = {
  anthropic = { type = "anthropic", base_url = ${JSON.stringify(mock.url)},
    token = util.oauth_token{ token_file = ${JSON.stringify(tokenFile)} } } } }
`;
    const port = await freePort();
    const pidFile = path.join(confDir, 'proxy.pid');
    const proxy = await startProxy({ config: { port }, rawConfig: raw(port, pidFile) });
    try {
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: { model: 'm', messages: [] } });
      assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-ant-oat01-OLDTOKENOLDTOKENOLD');
      const r = spawnSync(path.join(SOURCE_DIR, 'scripts/service.sh'), ['update-token'], { encoding: 'utf8',
        input: 'sk-ant-oat01-NEWTOKENNEWTOKENNEW\n', env: { ...process.env, CLAUDE_PROXY_CONFIG_DIR: confDir,
          CLAUDE_PROXY_CONFIG: proxy.configPath, CLAUDE_PROXY_BIN: PROXY_BIN, UNAME: 'Linux', SYSTEMCTL: 'false' } });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /asked the running proxy to reload/);
      assert.ok(!r.stdout.includes('NEWTOKEN') && !r.stderr.includes('NEWTOKEN'), 'the token is not echoed');
      const st = fs.statSync(tokenFile);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(fs.readFileSync(tokenFile, 'utf8'), 'sk-ant-oat01-NEWTOKENNEWTOKENNEW\n');
      await sleep(300);
      await request(`${proxy.url}/v1/messages`, { method: 'POST', body: { model: 'm', messages: [] } });
      assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-ant-oat01-NEWTOKENNEWTOKENNEW');
      assert.equal((await request(`${proxy.url}/health`)).json.config.reloads, 1);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });
});
