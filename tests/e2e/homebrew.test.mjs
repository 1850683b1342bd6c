// Homebrew from a clone, checked without Homebrew: `make brew-formula` in a fresh clone writes a
// formula whose tarball Homebrew would download (file://), whose checksum is that tarball's, and
// whose source builds with CMake alone; `make release` fills the committed formula; the committed
// formula is the template's. What only a Mac can show (brew itself, launchd) is not here.
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

describe('Homebrew formula for a clone', () => {
  let clone;
  before(() => {
    assert.equal(run('sh', ['-c', 'command -v ruby']).status, 0, 'ruby is needed to parse the formula (apt-get install ruby)');
    clone = path.join(tmpdir('cp-brew-'), 'claude-proxy');
    ok('git', ['clone', '-q', SOURCE_DIR, clone]);
  });

  test('make brew-formula: a file:// tarball of HEAD with its real checksum, a formula Ruby parses', () => {
    const r = ok('make', ['-s', 'brew-formula'], { cwd: clone });
    assert.match(r.stdout, /brew install --build-from-source \.\/build\/homebrew\/claude-proxy\.rb/);
    const formula = path.join(clone, 'build/homebrew/claude-proxy.rb');
    const rb = fs.readFileSync(formula, 'utf8');
    rubyParses(formula);
    const head = ok('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: clone }).stdout.trim();
    const version = /project\(claude-proxy VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(clone, 'CMakeLists.txt'), 'utf8'))[1];
    assert.equal(field(rb, 'version'), `${version}-${head}`);
    const url = field(rb, 'url');
    assert.ok(url.startsWith('file:///'), url);
    const tarball = url.slice('file://'.length);
    assert.equal(tarball, path.join(clone, `build/homebrew/claude-proxy-${version}-${head}.tar.gz`));
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

    // the tarball holds the tracked tree under one folder, nothing built or installed
    const list = ok('tar', ['-tzf', tarball]).stdout.trim().split('\n');
    const prefix = `claude-proxy-${version}-${head}/`;
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
  });

  test('a dirty tree is refused, and DIRTY=1 includes its tracked changes but no untracked file', () => {
    fs.appendFileSync(path.join(clone, 'README.md'), '\nlocal change\n');
    fs.writeFileSync(path.join(clone, 'untracked.txt'), 'not mine to ship\n');
    const refused = run('make', ['-s', 'brew-formula'], { cwd: clone });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /uncommitted changes.*DIRTY=1/);
    ok('make', ['-s', 'brew-formula', 'DIRTY=1'], { cwd: clone });
    const formula = path.join(clone, 'build/homebrew/claude-proxy.rb');
    const rb = fs.readFileSync(formula, 'utf8');
    assert.match(field(rb, 'version'), /-dirty$/);
    const tarball = field(rb, 'url').slice('file://'.length);
    assert.equal(field(rb, 'sha256'), sha256(tarball));
    const prefix = `claude-proxy-${field(rb, 'version')}`;
    const readme = ok('tar', ['-xzOf', tarball, `${prefix}/README.md`]).stdout;
    assert.match(readme, /local change\n$/);
    assert.ok(!ok('tar', ['-tzf', tarball]).stdout.includes('untracked.txt'));
    // the work tree, the index and the stash are as they were
    assert.match(ok('git', ['status', '--porcelain'], { cwd: clone }).stdout, /^ M README\.md\n\?\? untracked\.txt\n$/);
    assert.equal(ok('git', ['stash', 'list'], { cwd: clone }).stdout, '');
    ok('git', ['checkout', '-q', 'README.md'], { cwd: clone });
    fs.rmSync(path.join(clone, 'untracked.txt'));
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
      assert.match(rb.split('\n')[0], /^# Not released yet\. To install from a clone: make brew-formula, then brew install --build-from-source \.\/build\/homebrew\/claude-proxy\.rb$/);
    else
      assert.match(field(rb, 'sha256'), /^[0-9a-f]{64}$/);
    // a drifted copy is caught
    const drifted = path.join(tmpdir('cp-brew-drift-'), 'claude-proxy.rb');
    fs.writeFileSync(drifted, rb.replace('keep_alive true', 'keep_alive false'));
    const bad = run(path.join(SOURCE_DIR, 'scripts/brew-formula.sh'), ['--verify', drifted]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /is not what packaging\/homebrew\/claude-proxy\.rb\.in writes/);
  });
});
