// Homebrew from a clone, checked without Homebrew: `make brew-formula` in a fresh clone writes a
// formula whose tarball Homebrew would download (file://), whose checksum is that tarball's, and
// whose source builds with CMake alone, and puts it in the local tap claude-proxy/local (a fake
// `brew` on PATH records what is asked of it and answers --repository as Homebrew does);
// lib/homebrew-dsl.rb, a stand-in for the formula DSL, evaluates the formula: its service runs
// opt_bin/"claude-proxy" with no token, and its test block passes against the binary the tarball
// builds. `make release` fills the committed formula; the committed formula is the template's.
// What only a Mac can show (brew itself, launchd) is not here.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCE_DIR, tmpdir } from './lib/harness.mjs';

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
};
const ok = (cmd, args, opts) => {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
};
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const field = (rb, name) => new RegExp(`^  ${name} "(.*)"$`, 'm').exec(rb)?.[1];

function rubyParses(file) {
  const r = run('ruby', ['-c', file]);
  assert.equal(r.status, 0, `ruby -c ${file}: ${r.stderr}`);
}

const DSL = path.join(SOURCE_DIR, 'tests/e2e/lib/homebrew-dsl.rb');
// the formula as Homebrew's DSL sees it (lib/homebrew-dsl.rb); install is a dry run in cwd
function dsl(formula, cwd, extra = []) {
  const r = run('ruby', [DSL, formula, ...extra], { cwd, env: { ...process.env, CP_BREW_PREFIX: '/opt/homebrew' } });
  assert.equal(r.status, 0, `homebrew-dsl.rb ${formula} ${extra.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return extra.length ? r.stdout : JSON.parse(r.stdout);
}

// what Homebrew's service block runs: the binary alone (no --config, no token), kept alive, logged
function assertService(f) {
  assert.equal(f.class, 'ClaudeProxy', 'the class Homebrew expects of claude-proxy.rb');
  assert.ok(f.service, 'a service do block');
  assert.deepEqual(f.service.run, [`${f.opt_bin}/claude-proxy`], 'the service runs opt_bin/"claude-proxy" and nothing else');
  assert.deepEqual(f.service.keep_alive, { always: true });
  assert.equal(f.service.log_path, `${f.var}/log/claude-proxy.log`);
  assert.equal(f.service.error_log_path, `${f.var}/log/claude-proxy.error.log`);
  assert.deepEqual(f.service.environment_variables, { PROXY_PORT: '47000' }, 'no token or config in the plist');
  assert.doesNotMatch(JSON.stringify(f.service), /token|sk-ant|--config|CLAUDE_/i);
  assert.equal(f.test, true, 'a test do block');
  assert.match(f.caveats, /~\/\.config\/claude-proxy\/token/);
}

// a `brew` that records its arguments (one line a call) and does what the script needs of the real
// one: --repository USER/REPO answers ROOT/Library/Taps/<user>/homebrew-<repo> in lower case
// (Library/Homebrew/cmd/--repository.sh), tap-new --no-git makes that directory and its Formula/
function fakeBrew() {
  const dir = tmpdir('cp-fake-brew-');
  const bin = path.join(dir, 'bin');
  const root = path.join(dir, 'Homebrew');
  const log = path.join(dir, 'calls');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'brew'), `#!/bin/sh
echo "$*" >>"${log}"
tap_path() {
  user=$(echo "\${1%%/*}" | tr '[:upper:]' '[:lower:]'); repo=$(echo "\${1#*/}" | tr '[:upper:]' '[:lower:]')
  echo "${root}/Library/Taps/$user/homebrew-\${repo#homebrew-}"
}
case "$1" in
--repository) tap_path "$2" ;;
tap-new)
  [ "$2" = --no-git ] && [ $# -eq 3 ] || { echo "fake brew: tap-new $*" >&2; exit 1; }
  d=$(tap_path "$3")
  [ ! -d "$d" ] || { echo "Error: Tap is already installed!" >&2; exit 1; }
  mkdir -p "$d/Formula" && echo "==> Created $3" && echo "$d" ;;
*) echo "fake brew: unexpected $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
  return {
    root,
    tapFormula: path.join(root, 'Library/Taps/claude-proxy/homebrew-local/Formula/claude-proxy.rb'),
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
    reset: () => fs.rmSync(log, { force: true }),
  };
}

// PATH without any brew on it
const pathWithoutBrew = () => process.env.PATH.split(':').filter((d) => d && !fs.existsSync(path.join(d, 'brew'))).join(':');

// git describe style: 0.1.0-<commits since the last vX.Y.Z tag, or all>-g<commit>
function cloneVersion(clone) {
  const d = run('git', ['describe', '--tags', '--long', '--abbrev=10', '--match', 'v[0-9]*', 'HEAD'], { cwd: clone });
  if (d.status === 0) return d.stdout.trim().replace(/^v/, '');
  const version = /project\(claude-proxy VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(clone, 'CMakeLists.txt'), 'utf8'))[1];
  const count = ok('git', ['rev-list', '--count', 'HEAD'], { cwd: clone }).stdout.trim();
  const head = ok('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: clone }).stdout.trim();
  return `${version}-${count}-g${head}`;
}
const GIT_ID = ['-c', 'user.name=brew test', '-c', 'user.email=brew@test.invalid'];

describe('Homebrew formula for a clone', () => {
  let clone, brew;
  before(() => {
    brew = fakeBrew();
    assert.equal(run('sh', ['-c', 'command -v ruby']).status, 0, 'ruby is needed to parse the formula (apt-get install ruby)');
    clone = path.join(tmpdir('cp-brew-'), 'claude-proxy');
    ok('git', ['clone', '-q', SOURCE_DIR, clone]);
  });

  test('make brew-formula: a file:// tarball of HEAD with its real checksum, a formula Ruby parses, put in the local tap', () => {
    const r = ok('make', ['-s', 'brew-formula'], { cwd: clone, env: brew.env });
    assert.match(r.stdout, /brew install --build-from-source claude-proxy\/local\/claude-proxy && brew services start claude-proxy/);
    const formula = path.join(clone, 'build/homebrew/claude-proxy.rb');
    const rb = fs.readFileSync(formula, 'utf8');
    rubyParses(formula);
    const head = ok('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: clone }).stdout.trim();
    const version = /project\(claude-proxy VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(clone, 'CMakeLists.txt'), 'utf8'))[1];
    const full = cloneVersion(clone);
    assert.equal(field(rb, 'version'), full);
    assert.ok(full.startsWith(`${version}-`) || /^\d+\.\d+\.\d+/.test(full), full);
    assert.ok(full.endsWith(`-g${head}`), full);
    const url = field(rb, 'url');
    assert.ok(url.startsWith('file:///'), url);
    const tarball = url.slice('file://'.length);
    assert.equal(tarball, path.join(clone, `build/homebrew/claude-proxy-${full}.tar.gz`));
    assert.equal(field(rb, 'sha256'), sha256(tarball), 'the checksum is the tarball\'s');
    // no placeholder of any kind, the blocks brew needs, the token and --config out of the service
    assert.doesNotMatch(rb, /@[A-Z_]+@|RELEASE_CHECKSUM|0{64}|Not released yet/);
    const service = /\n  service do\n([\s\S]*?)\n  end\n/.exec(rb)?.[1];
    assert.ok(service, 'a service do block');
    assert.match(service, /run \[opt_bin\/"claude-proxy"\]$/m, 'the service finds the config as the other commands do');
    assert.doesNotMatch(service, /token|sk-ant|--config|CLAUDE_CODE_OAUTH_TOKEN/i);
    const testBlock = /\n  test do\n([\s\S]*?)\n  end\n/.exec(rb)?.[1] ?? '';
    assert.match(testBlock, /--check/);
    assert.match(testBlock, /\/health/);
    ok(path.join(clone, 'scripts/brew-formula.sh'), ['--verify', formula]);

    // Homebrew installs formulae only from a tap: the script asked brew where claude-proxy/local
    // lives, made it (no git), and copied the formula to its Formula/ directory
    assert.deepEqual(brew.calls(), ['--repository claude-proxy/local', 'tap-new --no-git claude-proxy/local']);
    assert.equal(fs.readFileSync(brew.tapFormula, 'utf8'), rb, 'the tap holds the formula written');
    assert.match(r.stdout, new RegExp(`installed it in the tap claude-proxy/local: ${brew.tapFormula.replace(/[.]/g, '\\.')}`));

    // as Homebrew's DSL sees it
    const f = dsl(formula, clone);
    assertService(f);
    assert.equal(f.dsl.url, url);
    assert.equal(f.dsl.sha256, sha256(tarball));
    assert.equal(f.dsl.version, full);
    assert.equal(f.resources.h2o.sha256, 'f8cbc1b530d85ff098f6efc2c3fdbc5e29baffb30614caac59d5c710f7bda201');

    // the tarball holds the tracked tree under one folder, nothing built or installed
    const list = ok('tar', ['-tzf', tarball]).stdout.trim().split('\n');
    const prefix = `claude-proxy-${full}/`;
    assert.ok(list.every((p) => p.startsWith(prefix)), 'one top folder');
    const tracked = ok('git', ['ls-files'], { cwd: clone }).stdout.trim().split('\n');
    const files = list.filter((p) => !p.endsWith('/')).map((p) => p.slice(prefix.length)).sort();
    assert.deepEqual(files, [...tracked].sort());
    assert.ok(!files.some((p) => /(^|\/)(build[^/]*|node_modules)\//.test(p)));

    // Homebrew builds the extracted tarball with CMake alone (no git, no make, no npm)
    const src = tmpdir('cp-brew-src-');
    ok('tar', ['-xzf', tarball, '-C', src]);
    const dir = path.join(src, prefix);
    const launcher = run('sh', ['-c', 'command -v ccache']).status === 0 ? ['-DCMAKE_C_COMPILER_LAUNCHER=ccache'] : [];
    ok('cmake', ['-S', dir, '-B', path.join(dir, 'build'), '-DCMAKE_BUILD_TYPE=Release', ...launcher]);
    ok('cmake', ['--build', path.join(dir, 'build'), '--target', 'claude-proxy', '-j', '2']);
    const v = ok(path.join(dir, 'build/claude-proxy'), ['--version']).stdout;
    assert.match(v, new RegExp(version.replace(/\./g, '\\.')));
    assert.equal(run(path.join(dir, 'build/claude-proxy'), ['--check', '--config', path.join(dir, 'etc/claude-proxy.lua')],
      { env: { ...process.env, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-test' } }).status, 0);

    // install, dry: what it copies from the source exists in the tarball (build/ is what cmake made)
    const fi = dsl(formula, dir);
    const cmakes = fi.install.system.filter((c) => c[0] === 'cmake' && c.includes('-S'));
    assert.equal(cmakes.length, 2, 'h2o, then claude-proxy');
    assert.ok(cmakes[1].includes(`-DCMAKE_INSTALL_SYSCONFDIR=${fi.etc}`), cmakes[1].join(' '));
    const sources = fi.install.installs.flatMap((i) => i.sources);
    for (const src of ['build/claude-proxy', 'packaging/proxy-claude', 'etc/claude-proxy.lua', 'lua/prices.lua']) {
      assert.ok(sources.includes(src), `install copies ${src}`);
    }
    for (const src of sources.filter((p) => !p.startsWith('build/'))) assert.ok(fs.existsSync(path.join(dir, src)), src);
    assert.ok(fi.install.installs.some((i) => i.into === fi.bin && i.sources.includes('build/claude-proxy')));

    // the test block, run as brew test runs it (a fresh HOME, none of the user's environment, so
    // no token), against the binary this tarball built, laid out as Homebrew installs it
    const hb = tmpdir('cp-brew-prefix-');
    const keg = path.join(hb, 'Cellar/claude-proxy', full);
    fs.mkdirSync(path.join(keg, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(hb, 'etc/claude-proxy'), { recursive: true });
    fs.copyFileSync(path.join(dir, 'build/claude-proxy'), path.join(keg, 'bin/claude-proxy'));
    fs.chmodSync(path.join(keg, 'bin/claude-proxy'), 0o755);
    fs.copyFileSync(path.join(dir, 'etc/claude-proxy.lua'), path.join(hb, 'etc/claude-proxy/claude-proxy.lua'));
    assert.match(dsl(formula, clone, ['--test', hb]), /test block passed/);
  });

  test('make brew-formula again: the tap is there, a new commit is a higher version; NO_TAP=1 and no brew write only the file', () => {
    const formula = path.join(clone, 'build/homebrew/claude-proxy.rb');
    const before = field(fs.readFileSync(formula, 'utf8'), 'version');
    ok('git', [...GIT_ID, 'commit', '-q', '--allow-empty', '-m', 'a later commit'], { cwd: clone });
    brew.reset();
    ok('make', ['-s', 'brew-formula'], { cwd: clone, env: brew.env });
    assert.deepEqual(brew.calls(), ['--repository claude-proxy/local'], 'the tap exists: no tap-new');
    const rb = fs.readFileSync(formula, 'utf8');
    const after = field(rb, 'version');
    assert.equal(after, cloneVersion(clone));
    assert.equal(fs.readFileSync(brew.tapFormula, 'utf8'), rb, 'the tap holds the new formula');
    // Homebrew compares versions token by token: the commit count is the first that differs
    const count = (v) => Number(/-(\d+)-g[0-9a-f]+$/.exec(v)[1]);
    assert.equal(count(after), count(before) + 1, `${before} -> ${after}`);
    assert.equal(after.replace(/-\d+-g.*/, ''), before.replace(/-\d+-g.*/, ''));

    // a vX.Y.Z tag: its version, counted from it
    ok('git', ['tag', 'v7.7.7'], { cwd: clone });
    try {
      ok('make', ['-s', 'brew-formula', 'NO_TAP=1'], { cwd: clone, env: brew.env });
      const head = ok('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: clone }).stdout.trim();
      assert.equal(field(fs.readFileSync(formula, 'utf8'), 'version'), `7.7.7-0-g${head}`);
    } finally {
      ok('git', ['tag', '-d', 'v7.7.7'], { cwd: clone });
    }

    // NO_TAP=1 (--no-tap) and a PATH without brew: the file only
    brew.reset();
    fs.writeFileSync(brew.tapFormula, 'left alone\n');
    ok('make', ['-s', 'brew-formula', 'NO_TAP=1'], { cwd: clone, env: brew.env });
    ok(path.join(clone, 'scripts/brew-formula.sh'), ['--no-tap'], { cwd: clone, env: brew.env });
    assert.deepEqual(brew.calls(), [], '--no-tap asks nothing of brew');
    const nobrew = ok('make', ['-s', 'brew-formula'], { cwd: clone, env: { ...process.env, PATH: pathWithoutBrew() } });
    assert.match(nobrew.stdout, /brew is not on PATH: wrote only build\/homebrew\/claude-proxy\.rb/);
    assert.equal(fs.readFileSync(brew.tapFormula, 'utf8'), 'left alone\n');
    assert.equal(field(fs.readFileSync(formula, 'utf8'), 'version'), cloneVersion(clone));
    const bad = run(path.join(clone, 'scripts/brew-formula.sh'), ['--tap'], { cwd: clone, env: brew.env });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /usage:/);
  });

  test('a dirty tree is refused; DIRTY=1 archives the work tree as it is through a private index', () => {
    fs.appendFileSync(path.join(clone, 'README.md'), '\nlocal change\n');
    fs.writeFileSync(path.join(clone, 'untracked.txt'), 'a new file\n');
    fs.writeFileSync(path.join(clone, 'staged.txt'), 'staged\n');
    ok('git', ['add', 'staged.txt'], { cwd: clone });
    fs.rmSync(path.join(clone, 'SECURITY.md'));
    fs.mkdirSync(path.join(clone, 'build/junk'), { recursive: true });
    fs.writeFileSync(path.join(clone, 'build/junk/ignored.o'), 'ignored\n');
    const status = ok('git', ['status', '--porcelain'], { cwd: clone }).stdout;
    assert.equal(status, ' M README.md\n D SECURITY.md\nA  staged.txt\n?? untracked.txt\n');
    const refused = run('make', ['-s', 'brew-formula'], { cwd: clone, env: brew.env });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /uncommitted changes.*DIRTY=1/);
    ok('make', ['-s', 'brew-formula', 'DIRTY=1'], { cwd: clone, env: brew.env });
    const formula = path.join(clone, 'build/homebrew/claude-proxy.rb');
    const rb = fs.readFileSync(formula, 'utf8');
    assert.match(field(rb, 'version'), /-dirty$/);
    assert.equal(field(rb, 'version'), `${cloneVersion(clone)}-dirty`);
    const tarball = field(rb, 'url').slice('file://'.length);
    assert.equal(field(rb, 'sha256'), sha256(tarball));
    assert.equal(fs.readFileSync(brew.tapFormula, 'utf8'), rb, 'the tap holds the dirty formula');
    const prefix = `claude-proxy-${field(rb, 'version')}`;
    const readme = ok('tar', ['-xzOf', tarball, `${prefix}/README.md`]).stdout;
    assert.match(readme, /local change\n$/);
    const list = ok('tar', ['-tzf', tarball]).stdout.trim().split('\n');
    assert.ok(list.includes(`${prefix}/untracked.txt`), 'a new file goes in');
    assert.ok(list.includes(`${prefix}/staged.txt`));
    assert.ok(!list.includes(`${prefix}/SECURITY.md`), 'a deleted file stays out');
    assert.ok(!list.some((p) => p.startsWith(`${prefix}/build/`)), 'what .gitignore ignores stays out');
    // the work tree, the index and the stash are as they were
    assert.equal(ok('git', ['status', '--porcelain'], { cwd: clone }).stdout, status);
    assert.equal(ok('git', ['diff', '--cached', '--name-only'], { cwd: clone }).stdout, 'staged.txt\n');
    assert.equal(ok('git', ['stash', 'list'], { cwd: clone }).stdout, '');
    ok('git', ['reset', '-q', '--hard'], { cwd: clone });
    ok('git', ['clean', '-fdq'], { cwd: clone });
    // DIRTY=1 on a clean tree is HEAD's tarball, not marked dirty
    ok('make', ['-s', 'brew-formula', 'DIRTY=1'], { cwd: clone, env: brew.env });
    assert.equal(field(fs.readFileSync(formula, 'utf8'), 'version'), cloneVersion(clone));
  });

  test('make release writes the versioned tarball and its checksum into the committed formula', () => {
    const version = /project\(claude-proxy VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(clone, 'CMakeLists.txt'), 'utf8'))[1];
    const wrong = run('make', ['-s', 'release', 'VERSION=9.9.9'], { cwd: clone });
    assert.notEqual(wrong.status, 0, 'a version CMakeLists.txt does not say is refused');
    assert.match(wrong.stderr, /CMakeLists\.txt says version/);
    ok('make', ['-s', 'release', `VERSION=${version}`], { cwd: clone });
    const formula = path.join(clone, 'packaging/homebrew/claude-proxy.rb');
    const rb = fs.readFileSync(formula, 'utf8');
    rubyParses(formula);
    const tarball = path.join(clone, `build/release/claude-proxy-${version}.tar.gz`);
    assert.equal(field(rb, 'sha256'), sha256(tarball));
    assert.equal(field(rb, 'url'), `https://github.com/claude-proxy/claude-proxy/releases/download/v${version}/claude-proxy-${version}.tar.gz`);
    assert.equal(field(rb, 'version'), version);
    assert.doesNotMatch(rb, /@[A-Z_]+@|0{64}|Not released yet/);
    ok(path.join(clone, 'scripts/brew-formula.sh'), ['--verify', formula]);
    // the same commit makes the same tarball: the checksum can be checked by anyone
    ok('git', ['stash', '-q'], { cwd: clone });
    ok('make', ['-s', 'release', `VERSION=${version}`], { cwd: clone });
    assert.equal(sha256(tarball), field(rb, 'sha256'));
  });
});

describe('the committed formula', () => {
  test('is the template written for its version, and says how to install from a clone until a release', () => {
    const formula = path.join(SOURCE_DIR, 'packaging/homebrew/claude-proxy.rb');
    rubyParses(formula);
    const r = ok(path.join(SOURCE_DIR, 'scripts/brew-formula.sh'), ['--verify', 'packaging/homebrew/claude-proxy.rb']);
    const rb = fs.readFileSync(formula, 'utf8');
    if (/not released yet/.test(r.stdout))
      assert.match(rb.split('\n')[0], /^# Not released yet\. To install from a clone: make brew-formula, then brew install --build-from-source claude-proxy\/local\/claude-proxy$/);
    else
      assert.match(field(rb, 'sha256'), /^[0-9a-f]{64}$/);
    // a drifted copy is caught
    const drifted = path.join(tmpdir('cp-brew-drift-'), 'claude-proxy.rb');
    fs.writeFileSync(drifted, rb.replace('keep_alive true', 'keep_alive false'));
    const bad = run(path.join(SOURCE_DIR, 'scripts/brew-formula.sh'), ['--verify', drifted]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /is not what packaging\/homebrew\/claude-proxy\.rb\.in writes/);
  });

  test('its service and test blocks, as Homebrew\'s DSL evaluates them; a token or --config in the service is caught', () => {
    const formula = path.join(SOURCE_DIR, 'packaging/homebrew/claude-proxy.rb');
    const f = dsl(formula, SOURCE_DIR);
    assertService(f);
    assert.equal(f.dsl.version, /project\(claude-proxy VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8'))[1]);
    const rb = fs.readFileSync(formula, 'utf8');
    const dir = tmpdir('cp-brew-dsl-');
    const copy = path.join(dir, 'claude-proxy.rb');
    const variant = (from, to) => {
      assert.ok(rb.includes(from), from);
      fs.writeFileSync(copy, rb.replace(from, to));
      return copy;
    };
    const withConfig = dsl(variant('run [opt_bin/"claude-proxy"]', 'run [opt_bin/"claude-proxy", "--config", etc/"claude-proxy/claude-proxy.lua"]'), dir);
    assert.throws(() => assertService(withConfig), /runs opt_bin/);
    const withToken = dsl(variant('PROXY_PORT: "47000"', 'PROXY_PORT: "47000", CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-x"'), dir);
    assert.throws(() => assertService(withToken), /no token/);
    // a service block sees only the paths Homebrew::Service delegates to the formula
    const r = run('ruby', [DSL, variant('run [opt_bin/"claude-proxy"]', 'run [pkgshare/"claude-proxy"]')], { cwd: dir });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the stub lacks Service#pkgshare/);
    const noTest = run('ruby', [DSL, variant('  test do\n', '  def unused_test\n'), '--test', dir], { cwd: dir });
    assert.notEqual(noTest.status, 0);
    assert.match(noTest.stderr, /has no test block/);
  });
});
