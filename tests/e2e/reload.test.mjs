// `claude-proxy reload` and what a reload keeps: finding the running instance when this shell
// computes another port than the service's, and a cooldown that is running at reload time.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startMock, startProxy, stopProxy, request, anthropicHandler, sleep, OAUTH_TOKEN, PROXY_BIN, tmpdir, lua,
  freePort,
} from './lib/harness.mjs';

const body = () => ({ model: 'claude-sonnet-5', max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });

function reloadCommand(configObj, runtimeDir, env = {}) {
  const dir = tmpdir('cp-reload-');
  const configPath = path.join(dir, 'claude-proxy.lua');
  fs.writeFileSync(configPath, `return ${lua(configObj)}\n`);
  return spawnSync(PROXY_BIN, ['reload', '--config', configPath], { encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, HOME: dir, ...env } });
}

describe('claude-proxy reload finds the running instance', () => {
  test('by its pid file in the runtime dir even when this shell computes another port', async () => {
    const runtime = tmpdir('cp-runtime-');
    const mock = await startMock(anthropicHandler());
    const cfg = { pid_file: null, order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: mock.url, token: OAUTH_TOKEN } } };
    const proxy = await startProxy({ config: cfg, env: { XDG_RUNTIME_DIR: runtime } });
    try {
      const own = path.join(runtime, `claude-proxy-${process.getuid()}`);
      assert.equal(fs.lstatSync(own).mode & 0o777, 0o700, 'in a directory of this user\'s only');
      assert.ok(fs.readdirSync(own).includes(`claude-proxy-${proxy.port}.pid`), 'pid file written');
      // the service runs with PROXY_PORT=N; this shell's config says another port
      const r = reloadCommand({ ...cfg, port: proxy.port + 1 }, runtime);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`asked pid ${proxy.child.pid} to reload`));
      await sleep(300);
      assert.equal((await request(`${proxy.url}/health`)).json.config.reloads, 1);
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('with two instances and no way to tell which, it names both and signals none', async () => {
    const runtime = tmpdir('cp-runtime-');
    const mock = await startMock(anthropicHandler());
    const cfg = { pid_file: null, order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: mock.url, token: OAUTH_TOKEN } } };
    const a = await startProxy({ config: cfg, env: { XDG_RUNTIME_DIR: runtime } });
    const b = await startProxy({ config: cfg, env: { XDG_RUNTIME_DIR: runtime } });
    try {
      const r = reloadCommand({ ...cfg, port: await freePort() }, runtime);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /several instances/);
      assert.match(r.stderr, new RegExp(`pid ${a.child.pid}`));
      assert.match(r.stderr, new RegExp(`pid ${b.child.pid}`));
      await sleep(200);
      assert.equal((await request(`${a.url}/health`)).json.config.reloads, 0);
      assert.equal((await request(`${b.url}/health`)).json.config.reloads, 0);
    } finally { await stopProxy(a, assert); await stopProxy(b, assert); await mock.close(); }
  });
});

describe('a reload during a cooldown', () => {
  test('the cooling provider stays skipped across the reload, then comes back', async () => {
    let limited = true;
    const primary = await startMock((req, res, b) => {
      if (!limited) return anthropicHandler({ text: 'from primary' })(req, res, b);
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'limited' } }));
    });
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const cfg = (extra = {}) => ({ order: ['primary', 'backup'], cooldown_min: 1, providers: {
      primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN },
      backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN } }, ...extra });
    const proxy = await startProxy({ config: cfg() });
    const ask = () => request(`${proxy.url}/v1/messages`, { method: 'POST', body: body(),
      headers: { 'content-type': 'application/json' } });
    try {
      assert.equal((await ask()).json.content[0].text, 'from backup');
      assert.equal(primary.requests.length, 1);
      limited = false;
      proxy.writeConfig(cfg({ log_level: 'info' })); // an edit that keeps both names
      proxy.child.kill('SIGHUP');
      await sleep(200);
      const h = (await request(`${proxy.url}/health`)).json;
      assert.equal(h.config.reloads, 1);
      assert.equal(h.providers.find((p) => p.name === 'primary').state, 'cooling', JSON.stringify(h.providers));
      assert.equal((await ask()).json.content[0].text, 'from backup', 'still skipped after the reload');
      assert.equal(primary.requests.length, 1, 'not asked while cooling');
      await sleep(2000);
      assert.equal((await ask()).json.content[0].text, 'from primary', 'back after the cooldown');
    } finally { await stopProxy(proxy, assert); await primary.close(); await backup.close(); }
  });
});

describe('the pid file is trusted only when it is the user\'s own and names a claude-proxy', () => {
  test('without XDG_RUNTIME_DIR (macOS) it is in a private directory under TMPDIR, not in /tmp itself', async () => {
    const tmp = tmpdir('cp-tmpdir-');
    fs.chmodSync(tmp, 0o1777); // shared, as /tmp is
    const mock = await startMock(anthropicHandler());
    const cfg = { pid_file: null, order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
      base_url: mock.url, token: OAUTH_TOKEN } } };
    const proxy = await startProxy({ config: cfg, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } });
    try {
      const own = path.join(tmp, `claude-proxy-${process.getuid()}`);
      assert.deepEqual(fs.readdirSync(tmp), [path.basename(own)], 'nothing straight in the shared directory');
      const st = fs.lstatSync(own);
      assert.ok(st.isDirectory() && (st.mode & 0o777) === 0o700 && st.uid === process.getuid());
      assert.equal(fs.readFileSync(path.join(own, `claude-proxy-${proxy.port}.pid`), 'utf8'), `${proxy.child.pid}\n`);
      const r = reloadCommand({ ...cfg, port: proxy.port }, '', { TMPDIR: tmp });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`asked pid ${proxy.child.pid} to reload`));
    } finally { await stopProxy(proxy, assert); await mock.close(); }
  });

  test('a pid that is not a claude-proxy, or a pid file others may write, is never signalled', async () => {
    const dir = tmpdir('cp-planted-');
    const pidFile = path.join(dir, 'proxy.pid');
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' }); // one of the user's processes; SIGHUP kills it
    const gone = new Promise((r) => victim.once('exit', (code, signal) => r(signal ?? code)));
    const providers = { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:9', token: OAUTH_TOKEN } };
    try {
      fs.writeFileSync(pidFile, `${victim.pid}\n`);
      let r = reloadCommand({ pid_file: pidFile, order: ['anthropic'], providers }, dir);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /no running instance found .*not naming a running claude-proxy/);
      // a real claude-proxy's pid, in a file anyone may write, is not believed either
      const mock = await startMock(anthropicHandler());
      const proxy = await startProxy({ config: { order: ['anthropic'], providers: { anthropic: { type: 'anthropic',
        base_url: mock.url, token: OAUTH_TOKEN } } } });
      try {
        fs.writeFileSync(pidFile, `${proxy.child.pid}\n`);
        fs.chmodSync(pidFile, 0o666);
        r = reloadCommand({ pid_file: pidFile, order: ['anthropic'], providers }, dir);
        assert.equal(r.status, 1, r.stdout);
        fs.chmodSync(pidFile, 0o644);
        r = reloadCommand({ pid_file: pidFile, order: ['anthropic'], providers }, dir);
        assert.equal(r.status, 0, r.stderr);
        await sleep(300);
        assert.equal((await request(`${proxy.url}/health`)).json.config.reloads, 1);
      } finally { await stopProxy(proxy, assert); await mock.close(); }
      assert.equal(await Promise.race([gone, sleep(200).then(() => 'alive')]), 'alive', 'the planted pid was not signalled');
    } finally { victim.kill('SIGKILL'); }
  });
});

// The proxy reads the config and route()'s result raw: a metatable on them runs no code outside
// a protected call, where an error would abort the process and a loop would freeze it.
describe('metatables in the config and in route() results', () => {
  const strictConfig = (port, pidFile, backupUrl) => `
local strict = { __index = function(_, k) error("unknown config key " .. tostring(k), 2) end }
local function S(t) return setmetatable(t, strict) end
setmetatable(_G, strict)
return S({ port = ${port}, request_timeout = 5, log_level = "debug", pid_file = ${JSON.stringify(pidFile)},
  order = S({ "backup" }),
  providers = S({ backup = S({ type = "anthropic", base_url = ${JSON.stringify(backupUrl)},
    token = ${JSON.stringify(OAUTH_TOKEN)} }) }),
})
`;

  test('a reload of a "strict table" config keeps the proxy running and takes effect', async () => {
    const primary = await startMock(anthropicHandler({ text: 'from primary' }));
    const backup = await startMock(anthropicHandler({ text: 'from backup' }));
    const proxy = await startProxy({ config: { order: ['primary'], providers: { primary: { type: 'anthropic',
      base_url: primary.url, token: OAUTH_TOKEN } } } });
    const ask = () => request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
    try {
      assert.equal((await ask()).json.content[0].text, 'from primary');
      proxy.writeConfig(strictConfig(proxy.port, path.join(proxy.dir, 'proxy.pid'), backup.url));
      proxy.child.kill('SIGHUP');
      await sleep(300);
      assert.equal(proxy.child.exitCode, null, proxy.output);
      const h = (await request(`${proxy.url}/health`)).json;
      assert.equal(h.config.reloads, 1, JSON.stringify(h.config));
      assert.ok(!h.config.reload_error, h.config.reload_error);
      assert.equal((await ask()).json.content[0].text, 'from backup', 'the strict config took effect');
    } finally { await stopProxy(proxy, assert); await primary.close(); await backup.close(); }
  });

  test('route() returning a list whose __len errors or loops: the client gets its answer, the proxy runs on',
    async () => {
      const primary = await startMock(anthropicHandler({ text: 'from primary' }));
      const backup = await startMock(anthropicHandler({ text: 'from backup' }));
      const route = { lua: `function(req)
    if req.headers["x-case"] == "error" then
      return setmetatable({ "backup" }, { __len = function() error("hostile __len") end })
    elseif req.headers["x-case"] == "loop" then
      return setmetatable({}, { __len = function() while true do end end })
    end
  end` };
      const p = await startProxy({ config: { order: ['primary', 'backup'], route, providers: {
        primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN },
        backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN } } } });
      try {
        const ask = (c) => request(`${p.url}/v1/messages`, { method: 'POST', body: body(), headers: { 'x-case': c },
          timeout: 8000 });
        let r = await ask('error');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.content[0].text, 'from backup', 'the list is read as it is, without its __len');
        r = await ask('loop');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.content[0].text, 'from primary', 'an empty list: the static order');
        assert.equal((await request(`${p.url}/health`)).status, 200);
        assert.ok(!/outside a protected call/.test(p.output), p.output);
      } finally { await stopProxy(p, assert); await primary.close(); await backup.close(); }
    });
});
