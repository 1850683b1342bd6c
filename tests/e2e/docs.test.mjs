// The documentation stays true to the tree: every relative link in the project's Markdown
// resolves (file and #anchor), README.md stays short, the commands and metrics the pages name
// are ones the binary has, and the settings tables name settings the code reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCE_DIR, PROXY_BIN } from './lib/harness.mjs';

const README_MAX_LINES = 90;
const SKIP_DIRS = new Set(['.git', 'node_modules', 'out', '.cache']);

function walk(dir, keep, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      // build trees (build, build-asan, build-release, ...) hold no project docs
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('build')) walk(path.join(dir, e.name), keep, out);
    } else if (keep(e.name)) {
      out.push(path.join(dir, e.name));
    }
  }
  return out;
}

const markdown = () => walk(SOURCE_DIR, (n) => n.endsWith('.md'));

// Prose without fenced code blocks and inline code, where links and headings live.
function prose(text) {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, 'x');
}

// GitHub's heading anchors: lower case, punctuation dropped (but - and _), spaces to -, repeats
// numbered.
function anchors(file) {
  const seen = new Map();
  const text = fs.readFileSync(file, 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const out = new Set();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) || 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

function links(file) {
  const out = [];
  for (const m of prose(fs.readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push(m[1]);
  }
  return out;
}

test('every relative link in the Markdown resolves, anchors included', () => {
  const broken = [];
  const files = markdown();
  assert.ok(files.length >= 8, `found only ${files.length} Markdown files under ${SOURCE_DIR}`);
  for (const file of files) {
    for (const link of links(file)) {
      const [target, anchor] = link.split('#');
      const resolved = target ? path.resolve(path.dirname(file), decodeURIComponent(target)) : file;
      const where = `${path.relative(SOURCE_DIR, file)}: ${link}`;
      if (!fs.existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
      } else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test(`README.md fits on a screen (at most ${README_MAX_LINES} lines) and tells the CI's test command`, () => {
  const readme = fs.readFileSync(path.join(SOURCE_DIR, 'README.md'), 'utf8');
  const lines = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail into docs/`);
  const ci = fs.readFileSync(path.join(SOURCE_DIR, '.ci/run'), 'utf8');
  assert.match(ci, /make test\b/);
  assert.match(readme, /^make test\b/m);
});

test('the subcommands the pages name are in claude-proxy --help', () => {
  const help = execFileSync(PROXY_BIN, ['--help'], { encoding: 'utf8' });
  const named = new Set();
  for (const file of markdown()) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/`claude-proxy (--?[a-z-]+|[a-z]+)\b/g)) named.add(m[1]);
  }
  assert.ok(named.size >= 3, `only ${[...named]} found`);
  const missing = [...named].filter((c) => !help.includes(`claude-proxy ${c}`) && !help.includes(c));
  assert.deepEqual(missing, [], 'documented but not in --help');
});

test('the metrics the pages name exist in the sources', () => {
  const sources = walk(path.join(SOURCE_DIR, 'src'), (n) => n.endsWith('.c'))
    .map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const missing = new Set();
  for (const file of markdown()) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bclaude_proxy_[a-z_]+/g)) {
      if (!sources.includes(`"${m[0]}"`)) missing.add(m[0]);
    }
  }
  assert.deepEqual([...missing], []);
});

test('the settings and variables the settings tables name are read by the code', () => {
  const code = [...walk(path.join(SOURCE_DIR, 'src'), (n) => n.endsWith('.c')),
    ...walk(path.join(SOURCE_DIR, 'lua'), (n) => n.endsWith('.lua')),
    ...walk(path.join(SOURCE_DIR, 'etc'), (n) => n.endsWith('.lua'))].map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const unknown = [];
  for (const page of ['docs/configuration.md', 'docs/bedrock.md']) {
    for (const line of fs.readFileSync(path.join(SOURCE_DIR, page), 'utf8').split('\n')) {
      if (!line.startsWith('| `')) continue;
      const first = line.split('|')[1];
      for (const [, name] of first.matchAll(/`([a-z][a-z0-9_]*)`/g)) {
        if (!code.includes(`"${name}"`) && !new RegExp(`\\b${name}\\s*=`).test(code)) unknown.push(`${page}: ${name}`);
      }
      for (const [, name] of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) {
        if (!code.includes(name)) unknown.push(`${page}: ${name}`);
      }
    }
  }
  assert.deepEqual(unknown, []);
});
