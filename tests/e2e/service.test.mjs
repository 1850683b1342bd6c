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
            CLAUDE_CODE_USE_BEDROCK: '1', FAKE_EXIT: '7', PROXY_CLAUDE_STATUSLINE: '0' } });
        assert.equal(r.status, 7, r.stderr);
        const rec = JSON.parse(fs.readFileSync(fake.record));
        assert.deepEqual(rec.args, ['-p', 'two words', '--model', "it's \"quoted\"", '']);
        assert.equal(rec.base, `http://localhost:${port}`);
        assert.equal(rec.bedrock, null, 'CLAUDE_CODE_USE_BEDROCK is unset');
        fs.rmSync(fake.record);
      }
    } finally { srv.close(); }
  });

  test('turns on `claude-proxy statusline` unless the user has a status line, passes --settings, or says no', async () => {
    const fake = fakeClaude();
    const srv = await healthServer();
    const bindir = tmpdir('cp-bin-');
    fs.copyFileSync(WRAPPER, path.join(bindir, 'proxy-claude'));
    fs.chmodSync(path.join(bindir, 'proxy-claude'), 0o755);
    fs.symlinkSync(PROXY_BIN, path.join(bindir, 'claude-proxy'));
    const home = tmpdir('cp-home-'), cwd = tmpdir('cp-cwd-');
    const env = { ...process.env, HOME: home, PATH: `${fake.dir}:${process.env.PATH}`,
      PROXY_PORT: String(srv.address().port) };
    delete env.CLAUDE_CONFIG_DIR;
    const args = async (argv, extraEnv = {}) => {
      const r = await run(path.join(bindir, 'proxy-claude'), argv, { cwd, env: { ...env, ...extraEnv } });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(fs.readFileSync(fake.record)).args;
    };
    try {
      const settings = JSON.parse((await args(['-p', 'hi']))[1]);
      assert.deepEqual(settings, { statusLine: { type: 'command', command: `'${bindir}/claude-proxy' statusline` } });
      // the command it set runs and prints the line (this /health has no providers)
      const line = spawnSync('sh', ['-c', settings.statusLine.command], { input: '{}', encoding: 'utf8', env });
      assert.match(line.stdout, /^(→|claude-proxy)/);
      assert.deepEqual(await args(['-p', 'hi'], { PROXY_CLAUDE_STATUSLINE: '0' }), ['-p', 'hi']);
      assert.deepEqual(await args(['--settings', '/my.json', '-p', 'hi']), ['--settings', '/my.json', '-p', 'hi']);
      assert.deepEqual(await args(['mcp', 'list']), ['mcp', 'list'], 'subcommands are left alone');
      fs.mkdirSync(path.join(cwd, '.claude'));
      fs.writeFileSync(path.join(cwd, '.claude/settings.local.json'), '{"statusLine":{"type":"command","command":"x"}}');
      assert.deepEqual(await args(['-p', 'hi']), ['-p', 'hi'], 'the project has one');
      fs.rmSync(path.join(cwd, '.claude'), { recursive: true });
      fs.mkdirSync(path.join(home, '.claude'));
      fs.writeFileSync(path.join(home, '.claude/settings.json'), '{\n  "statusLine": {"type": "command", "command": "mine"}\n}');
      assert.deepEqual(await args(['-p', 'hi']), ['-p', 'hi'], 'the user has one');
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
      assert.deepEqual(JSON.parse(fs.readFileSync(fake.record)).args, ['--settings',
        `{"statusLine":{"type":"command","command":"'${bindir}/claude-proxy' statusline"}}`, '-p', 'hi'],
      '--proxy-start is not passed on; the status line is turned on');
      const h = await request(`http://127.0.0.1:${port}/health`);
      assert.equal(h.json.status, 'ok');
    } finally {
      spawnSync('pkill', ['-TERM', '-f', `${bindir}/claude-proxy`]);
      await sleep(200);
    }
  });
});

const SERVICE_SH = path.join(SOURCE_DIR, 'scripts/service.sh');
const BUILD_DIR = path.dirname(PROXY_BIN);

// Writes an executable shell script.
function script(file, text) {
  fs.writeFileSync(file, `#!/bin/sh\n${text}`, { mode: 0o755 });
  return file;
}
const shq = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
const lines = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

// A systemctl that records its calls and keeps the unit's state in a file; `reload` sends
// SIGHUP to the pid in pidFile, as ExecReload does.
function fakeSystemctl(dir, { active = false, pidFile = null } = {}) {
  const log = path.join(dir, 'systemctl.log');
  const state = path.join(dir, 'systemctl.active');
  if (active) fs.writeFileSync(state, '');
  const bin = script(path.join(dir, 'systemctl'), `printf '%s\\n' "$*" >> ${shq(log)}
case "$*" in
*is-active*) [ -f ${shq(state)} ] ;;
*" reload claude-proxy.service") [ -f ${shq(state)} ] || exit 1; kill -HUP "$(cat ${shq(pidFile ?? '/nonexistent')})" ;;
*" start claude-proxy.service"|*" restart claude-proxy.service") : > ${shq(state)} ;;
*" stop claude-proxy.service"|*"disable --now claude-proxy.service") rm -f ${shq(state)} ;;
esac
`);
  return { bin, calls: () => lines(log) };
}

// A launchctl that behaves like macOS's for one agent: bootstrap of a loaded agent fails (5),
// kickstart/kill/bootout of an unloaded one fail, print tells whether it is loaded.
function fakeLaunchctl(dir, { loaded = false } = {}) {
  const log = path.join(dir, 'launchctl.log');
  const state = path.join(dir, 'launchctl.loaded');
  if (loaded) fs.writeFileSync(state, '');
  const bin = script(path.join(dir, 'launchctl'), `printf '%s\\n' "$*" >> ${shq(log)}
case "$1" in
print) [ -f ${shq(state)} ] || exit 113 ;;
bootstrap) if [ -f ${shq(state)} ]; then echo "Bootstrap failed: 5: Input/output error" >&2; exit 5; fi; : > ${shq(state)} ;;
bootout) [ -f ${shq(state)} ] || { echo "Boot-out failed: 3: No such process" >&2; exit 3; }; rm -f ${shq(state)} ;;
kickstart|kill) [ -f ${shq(state)} ] || { echo "Could not find service" >&2; exit 113; } ;;
*) echo "fake launchctl: unexpected $1" >&2; exit 64 ;;
esac
`);
  // the calls that change something (print only looks)
  return { bin, loaded: () => fs.existsSync(state), calls: () => lines(log).filter((l) => !l.startsWith('print ')) };
}

function service(action, env) {
  return spawnSync(SERVICE_SH, [action], { encoding: 'utf8', env: { PATH: process.env.PATH, BUILD: BUILD_DIR, ...env } });
}

describe('packaging files', () => {
  test('the systemd unit is valid, takes its paths from make install and holds no secret', () => {
    const text = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/systemd/claude-proxy.service'), 'utf8');
    assert.doesNotMatch(text, /sk-ant|TOKEN=|SECRET/);
    for (const k of ['ExecStart="@BINDIR@/claude-proxy" --config "@CONFIG@"', 'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure', 'Environment=PROXY_PORT=@PORT@', 'WantedBy=default.target']) assert.ok(text.includes(k), k);
    const settings = text.split('\n').filter((l) => !l.startsWith('#'));
    assert.ok(!settings.some((l) => /%h|PrivateTmp|network-online/.test(l)), 'no %h path, PrivateTmp or network-online');
    const sections = text.split('\n').filter((l) => /^\[/.test(l));
    assert.deepEqual(sections, ['[Unit]', '[Service]', '[Install]']);
  });

  test('the LaunchAgent plist is a well-formed plist and holds no secret', () => {
    const text = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/launchd/com.claude-proxy.plist'), 'utf8');
    assert.doesNotMatch(text, /sk-ant|TOKEN|SECRET/);
    const dir = tmpdir('cp-plist-');
    const file = path.join(dir, 'p.plist');
    fs.writeFileSync(file, text.replaceAll('@BINDIR@', '/opt/bin').replaceAll('@CONFIG@', '/c.lua')
      .replaceAll('@LOGDIR@', '/logs').replaceAll('@PORT@', '47000'));
    const p = readPlist(file);
    assert.equal(p.Label, 'com.claude-proxy');
    assert.deepEqual(p.ProgramArguments, ['/opt/bin/claude-proxy', '--config', '/c.lua']);
    assert.equal(p.KeepAlive, true);
    assert.equal(p.RunAtLoad, true);
    assert.equal(p.EnvironmentVariables.PROXY_PORT, '47000');
  });

  test('the Homebrew formula matches the project (dependencies, h2o build, installed paths, service, test)', () => {
    const rb = fs.readFileSync(path.join(SOURCE_DIR, 'packaging/homebrew/claude-proxy.rb'), 'utf8');
    const cmake = fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8');
    // each pkg-config module CMake needs has a Homebrew dependency providing it
    const provides = { libuv: 'libuv', openssl: 'openssl@3', libcjson: 'cjson', 'lua5.4 lua-5.4 lua54 lua>=5.4': 'lua' };
    for (const [module, formula] of Object.entries(provides)) {
      assert.ok(cmake.includes(module.split(' ')[0]), `CMake uses ${module}`);
      assert.match(rb, new RegExp(`depends_on "${formula}"`), formula);
    }
    assert.match(rb, /depends_on "pkgconf" => :build/, 'h2o finds libuv through pkg-config');
    // h2o 2.2.6: the tarball Homebrew's own h2o formula uses, with its checksum
    const h2o = /resource "h2o" do([\s\S]*?)\n  end/.exec(rb)?.[1];
    assert.ok(h2o, 'an h2o resource');
    assert.match(h2o, /url "https:\/\/github\.com\/h2o\/h2o\/archive\/refs\/tags\/v2\.2\.6\.tar\.gz"/);
    assert.match(h2o, /sha256 "f8cbc1b530d85ff098f6efc2c3fdbc5e29baffb30614caac59d5c710f7bda201"/);
    // every -D given to h2o's CMake is one of its 2.2.6 options or a CMake/FindOpenSSL variable
    // (it has no LIBUV option: the libuv library is built when pkg-config finds libuv)
    const h2oCmake = /resource\("h2o"\)\.stage do([\s\S]*?)system "cmake", "--build"/.exec(rb)?.[1] ?? '';
    const defines = [...h2oCmake.matchAll(/"-D([A-Z_]+)=/g)].map((m) => m[1]);
    const h2oOptions = ['WITH_BUNDLED_SSL', 'WITHOUT_LIBS', 'BUILD_SHARED_LIBS', 'WITH_MRUBY', 'WITH_PICOTLS', 'DISABLE_LIBUV'];
    assert.ok(defines.length >= 3, defines.join(' '));
    for (const d of defines) assert.ok(h2oOptions.includes(d) || /^(CMAKE_|OPENSSL_)/.test(d), `h2o knows -D${d}`);
    assert.ok(defines.includes('CMAKE_POLICY_VERSION_MINIMUM'), 'CMake 4 accepts h2o\'s cmake_minimum_required(2.8.11)');
    assert.match(rb, /-DCMAKE_POLICY_VERSION_MINIMUM=3\.5/);
    assert.match(h2oCmake, /LIBUV_FOUND:INTERNAL=1/, 'the build stops if h2o did not find libuv');
    assert.match(rb, /"--build", "build", "--target", "libh2o"/, 'the libuv flavour of the library');
    // the licence it declares is the one in the repository
    assert.match(rb, /license "MIT"/);
    assert.match(fs.readFileSync(path.join(SOURCE_DIR, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} claude-proxy developers\n/);
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

// Reads a plist (python3's plistlib: the same parser semantics as macOS for XML plists).
function readPlist(file) {
  return JSON.parse(execFileSync('python3', ['-c',
    'import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file]));
}

describe('cmake --install', () => {
  test('the config lands where the binary looks for it (--prefix and DESTDIR)', () => {
    const dest = tmpdir('cp-destdir-');
    const r = spawnSync('cmake', ['--install', BUILD_DIR, '--prefix', '/tmp/cp-prefix'], { encoding: 'utf8',
      env: { ...process.env, DESTDIR: dest } });
    assert.equal(r.status, 0, r.stderr);
    const help = execFileSync(PROXY_BIN, ['--help'], { encoding: 'utf8' });
    const sysconf = /else (\/\S+)\/claude-proxy\/claude-proxy\.lua/.exec(help)?.[1];
    assert.ok(sysconf, help);
    assert.ok(fs.existsSync(path.join(dest, sysconf, 'claude-proxy/claude-proxy.lua')), `config in ${sysconf}`);
    for (const f of ['bin/claude-proxy', 'bin/proxy-claude', 'share/claude-proxy/lua/util.lua',
      'share/doc/claude-proxy/LICENSE']) assert.ok(fs.existsSync(path.join(dest, '/tmp/cp-prefix', f)), f);
  });

  test('with prefix /usr the config goes to /etc (GNUInstallDirs), not /usr/etc', () => {
    const build = tmpdir('cp-usr-build-');
    const dest = tmpdir('cp-usr-dest-');
    const c = spawnSync('cmake', ['-S', SOURCE_DIR, '-B', build, '-DCMAKE_INSTALL_PREFIX=/usr'], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    // the config component needs no build
    const r = spawnSync('cmake', ['--install', build, '--component', 'config'], { encoding: 'utf8',
      env: { ...process.env, DESTDIR: dest } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dest, 'etc/claude-proxy/claude-proxy.lua')));
    assert.ok(!fs.existsSync(path.join(dest, 'usr/etc')));
    fs.rmSync(build, { recursive: true, force: true });
  });
});

describe('service.sh on Linux (fake systemctl)', () => {
  test('install writes the unit with the config under XDG_CONFIG_HOME, then start/stop/restart/status/uninstall', () => {
    const dir = tmpdir('cp-svc-linux-');
    const ctl = fakeSystemctl(dir);
    // paths with a space and a % (a systemd specifier character) must survive
    const xdg = path.join(dir, 'x dg%c');
    const prefix = path.join(dir, 'pre fix');
    const env = { HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: xdg, PREFIX: prefix, UNAME: 'Linux', SYSTEMCTL: ctl.bin,
      PROXY_PORT: '1' };
    const r = service('install', env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(ctl.calls(), ['--user daemon-reload', '--user enable claude-proxy.service',
      '--user restart claude-proxy.service']);
    const config = path.join(xdg, 'claude-proxy/claude-proxy.lua');
    assert.ok(fs.existsSync(config), 'the config is installed');
    assert.equal(fs.statSync(path.dirname(config)).mode & 0o777, 0o700);
    assert.ok(fs.existsSync(path.join(prefix, 'bin/claude-proxy')));
    assert.ok(!fs.existsSync(path.join(prefix, 'etc')), 'no system-wide config under the user prefix');
    const unit = fs.readFileSync(path.join(xdg, 'systemd/user/claude-proxy.service'), 'utf8');
    const esc = (p) => p.replaceAll('%', '%%');
    assert.ok(unit.includes(`ExecStart="${esc(prefix)}/bin/claude-proxy" --config "${esc(config)}"`), unit);
    assert.ok(unit.includes('Environment=PROXY_PORT=1'));
    if (has('systemd-analyze')) {
      const v = spawnSync('systemd-analyze', ['verify', path.join(xdg, 'systemd/user/claude-proxy.service')], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
    }
    const before = ctl.calls().length;
    for (const a of ['stop', 'start', 'restart']) assert.equal(service(a, env).status, 0, a);
    assert.deepEqual(ctl.calls().slice(before), ['--user stop claude-proxy.service', '--user start claude-proxy.service',
      '--user restart claude-proxy.service']);
    const st = service('status', env);
    assert.match(st.stdout, /claude-proxy service: running\nhealth: no answer on http:\/\/127\.0\.0\.1:1\/health/);
    assert.equal(service('uninstall', env).status, 0);
    assert.ok(!fs.existsSync(path.join(xdg, 'systemd/user/claude-proxy.service')));
    assert.ok(!fs.existsSync(path.join(prefix, 'bin/claude-proxy')));
    assert.ok(fs.existsSync(config), 'uninstall keeps the config');
  });
});

describe('service.sh on macOS (fake launchctl)', () => {
  function setup(opts) {
    const dir = tmpdir('cp-svc-mac-');
    const ctl = fakeLaunchctl(dir, opts);
    const home = path.join(dir, 'Home & <Dir>');
    const env = { HOME: home, PREFIX: path.join(home, '.local'), UNAME: 'Darwin', LAUNCHCTL: ctl.bin, PROXY_PORT: '1' };
    const uid = execFileSync('id', ['-u'], { encoding: 'utf8' }).trim();
    return { ctl, env, home, domain: `gui/${uid}`, svc: `gui/${uid}/com.claude-proxy` };
  }

  test('install bootstraps a well-formed plist with the right paths', () => {
    const { ctl, env, home, domain } = setup();
    const r = service('install', env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const plist = path.join(home, 'Library/LaunchAgents/com.claude-proxy.plist');
    assert.deepEqual(ctl.calls(), [`bootstrap ${domain} ${plist}`]);
    const p = readPlist(plist);
    assert.deepEqual(p.ProgramArguments, [path.join(home, '.local/bin/claude-proxy'), '--config',
      path.join(home, '.config/claude-proxy/claude-proxy.lua')]);
    assert.equal(p.StandardErrorPath, path.join(home, 'Library/Logs/claude-proxy/claude-proxy.error.log'));
    assert.equal(p.EnvironmentVariables.PROXY_PORT, '1');
  });

  test('install again while loaded: bootout before bootstrap', () => {
    const { ctl, env, home, domain, svc } = setup({ loaded: true });
    const r = service('install', env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const plist = path.join(home, 'Library/LaunchAgents/com.claude-proxy.plist');
    assert.deepEqual(ctl.calls(), [`bootout ${svc}`, `bootstrap ${domain} ${plist}`]);
    assert.ok(ctl.loaded());
  });

  test('stop, then restart and start load the agent again; restart of a running one kickstarts it', () => {
    const { ctl, env, home, domain, svc } = setup();
    assert.equal(service('install', env).status, 0);
    const plist = path.join(home, 'Library/LaunchAgents/com.claude-proxy.plist');
    const steps = [
      ['stop', [`bootout ${svc}`], false],
      ['restart', [`bootstrap ${domain} ${plist}`], true],
      ['restart', [`kickstart -k ${svc}`], true],
      ['stop', [`bootout ${svc}`], false],
      ['stop', [], false],
      ['start', [`bootstrap ${domain} ${plist}`], true],
      ['start', [`kickstart ${svc}`], true],
    ];
    for (const [action, calls, loadedAfter] of steps) {
      const before = ctl.calls().length;
      const r = service(action, env);
      assert.equal(r.status, 0, `${action}: ${r.stderr}`);
      assert.deepEqual(ctl.calls().slice(before), calls, action);
      assert.equal(ctl.loaded(), loadedAfter, action);
    }
    assert.match(service('status', env).stdout, /claude-proxy service: running/);
    assert.equal(service('uninstall', env).status, 0);
    assert.ok(!ctl.loaded());
    assert.ok(!fs.existsSync(plist));
  });
});

describe('update-token', () => {
  // A proxy reading its token from a 0600 file, with its config in confDir (where service.sh
  // looks for it) and its pid file there too.
  async function setup() {
    const mock = await startMock(anthropicHandler());
    const confDir = tmpdir('cp-conf-');
    fs.chmodSync(confDir, 0o700);
    const tokenFile = path.join(confDir, 'token');
    fs.writeFileSync(tokenFile, 'sk-ant-oat01-OLDTOKENOLDTOKENOLD\n', { mode: 0o600 });
    const port = await freePort();
    const pidFile = path.join(confDir, 'proxy.pid');
    const raw = `local util = require "util"
return { port = ${port}, pid_file = ${JSON.stringify(pidFile)}, order = { "anthropic" }, providers = {
  anthropic = { type = "anthropic", base_url = ${JSON.stringify(mock.url)},
    token = util.oauth_token{ token_file = ${JSON.stringify(tokenFile)} } } } }
`;
    const proxy = await startProxy({ config: { port }, rawConfig: raw });
    fs.writeFileSync(path.join(confDir, 'claude-proxy.lua'), raw);
    // a claude-proxy that records its arguments; CLAUDE_PROXY_CONFIG is dropped so that only
    // --config can point it at the config
    const binDir = tmpdir('cp-bin-');
    const binLog = path.join(binDir, 'args');
    const bin = script(path.join(binDir, 'claude-proxy'),
      `printf '%s\\n' "$@" > ${shq(binLog)}\nunset CLAUDE_PROXY_CONFIG\nexec ${shq(PROXY_BIN)} "$@"\n`);
    const send = () => request(`${proxy.url}/v1/messages`, { method: 'POST', body: { model: 'm', messages: [] } });
    await send();
    assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-ant-oat01-OLDTOKENOLDTOKENOLD');
    return { mock, proxy, confDir, tokenFile, pidFile, bin, binArgs: () => lines(binLog), send };
  }

  async function updateToken(t, ctl) {
    const r = spawnSync(SERVICE_SH, ['update-token'], { encoding: 'utf8', input: 'sk-ant-oat01-NEWTOKENNEWTOKENNEW\n',
      env: { PATH: process.env.PATH, HOME: t.confDir, CLAUDE_PROXY_CONFIG_DIR: t.confDir, CLAUDE_PROXY_BIN: t.bin,
        UNAME: 'Linux', SYSTEMCTL: ctl.bin } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /asked the running proxy to reload/);
    assert.ok(!r.stdout.includes('NEWTOKEN') && !r.stderr.includes('NEWTOKEN'), 'the token is not echoed');
    assert.equal(fs.statSync(t.tokenFile).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(t.tokenFile, 'utf8'), 'sk-ant-oat01-NEWTOKENNEWTOKENNEW\n');
    await sleep(300);
    await t.send();
    assert.equal(t.mock.requests.at(-1).headers.authorization, 'Bearer sk-ant-oat01-NEWTOKENNEWTOKENNEW');
    assert.equal((await request(`${t.proxy.url}/health`)).json.config.reloads, 1);
  }

  test('with the service running: written 0600, reloaded through systemctl --user reload', async () => {
    const t = await setup();
    try {
      const ctl = fakeSystemctl(t.confDir, { active: true, pidFile: t.pidFile });
      await updateToken(t, ctl);
      assert.deepEqual(ctl.calls(), ['--user is-active --quiet claude-proxy.service', '--user reload claude-proxy.service']);
      assert.deepEqual(t.binArgs(), [], 'claude-proxy reload was not needed');
    } finally { await stopProxy(t.proxy, assert); await t.mock.close(); }
  });

  test('with no service running: claude-proxy reload --config <the service config>', async () => {
    const t = await setup();
    try {
      const ctl = fakeSystemctl(t.confDir, { active: false });
      await updateToken(t, ctl);
      assert.ok(!ctl.calls().some((c) => c.includes(' reload ')), 'no systemctl reload of a stopped unit');
      assert.deepEqual(t.binArgs(), ['reload', '--config', path.join(t.confDir, 'claude-proxy.lua')]);
    } finally { await stopProxy(t.proxy, assert); await t.mock.close(); }
  });
});

describe('scripts/deps.sh', () => {
  test('node without npm (Debian\'s nodejs): installs npm instead of stopping early', () => {
    const dir = tmpdir('cp-deps-');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // everything deps.sh looks for, but npm
    for (const tool of ['pkg-config', 'cmake', 'node', 'openssl', 'uname', 'id']) {
      const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (!where) return; // not on this machine: nothing to check
      fs.symlinkSync(where, path.join(bin, tool));
    }
    const log = path.join(dir, 'apt-get.log');
    script(path.join(bin, 'apt-get'), `printf '%s\\n' "$*" >> ${shq(log)}\n`);
    script(path.join(bin, 'sudo'), 'exec "$@"\n');
    const r = spawnSync('/bin/sh', [path.join(SOURCE_DIR, 'scripts/deps.sh')], { encoding: 'utf8', env: { PATH: bin } });
    if (process.platform !== 'linux') return;
    assert.equal(r.status, 0, r.stderr);
    const install = lines(log).find((l) => l.startsWith('install '));
    assert.ok(install, `apt-get install was run: ${lines(log).join(' | ')}`);
    assert.ok(install.split(' ').includes('npm'), install);
    assert.ok(!install.split(' ').includes('nodejs'), `the existing node is kept: ${install}`);
  });
});
