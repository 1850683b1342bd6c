// The dashboard in a real browser: headless Chromium (Debian's `chromium`) driven over the Chrome
// DevTools Protocol loads /dashboard from a proxy fed by mocks (a provider cooling at its plan
// limit with quota windows, a backup serving the fallback) and must render, under the page's own
// Content-Security-Policy, the providers' states, the cooling reset time, the quota bars, one chart
// bucket per hour / day and the recent requests, with no console error or CSP violation. A
// screenshot goes to <build>/artifacts/dashboard.png. GET /usage is checked against the ledger.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import CDP from 'chrome-remote-interface';
import { startMock, startProxy, stopProxy, request, anthropicHandler, OAUTH_TOKEN, PROXY_BIN, TEST_DATA, tmpdir, sleep }
  from './lib/harness.mjs';

// A captured quota header set (tests/data/quota), its epochs moved so that the earliest is
// `shift` seconds from now (as quota.test.mjs does).
function headerSet(name, shift) {
  const headers = {};
  for (const line of fs.readFileSync(path.join(TEST_DATA, 'quota', `${name}.headers`), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const epochs = Object.values(headers).filter((v) => /^\d{10}$/.test(v)).map(Number);
  const delta = Math.floor(Date.now() / 1000) + shift - Math.min(...epochs);
  for (const [k, v] of Object.entries(headers)) if (/^\d{10}$/.test(v)) headers[k] = String(Number(v) + delta);
  return headers;
}
const errorBody = (name) => fs.readFileSync(path.join(TEST_DATA, 'quota', `${name}.body`), 'utf8').trim();

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

// The browser, installed here when it is missing and this user may (as .ci/run does).
function findChromium() {
  if (CHROMIUM) return CHROMIUM;
  if (process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0) {
    spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'ignore', timeout: 600000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (fs.existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  }
  return null;
}
const chromium = findChromium();

async function launch(bin) {
  const profile = tmpdir('cp-chromium-');
  const child = spawn(bin, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-extensions', '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1100,1400',
    'about:blank'], { stdio: 'ignore' });
  const portFile = path.join(profile, 'DevToolsActivePort');
  for (let i = 0; !fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8').split('\n').length < 2; i++) {
    if (i > 300 || child.exitCode !== null) throw new Error('chromium did not start');
    await sleep(100);
  }
  const port = Number(fs.readFileSync(portFile, 'utf8').split('\n')[0]);
  return { port, close: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); } };
}

const post = (proxy) => request(`${proxy.url}/v1/messages`, { method: 'POST',
  body: { model: 'claude-sonnet-5', max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] } });

function okWith(set) {
  const { 'content-type': _, ...headers } = set;
  const inner = anthropicHandler();
  return (req, res, b) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (status, h) => writeHead(status, { ...h, ...headers });
    return inner(req, res, b);
  };
}

const pad = (n) => String(n).padStart(2, '0');
const hhmm = (t) => `${pad(new Date(t).getHours())}:${pad(new Date(t).getMinutes())}`;

describe('dashboard', () => {
  test('GET /usage, GET /dashboard and / by Accept; the page in headless Chromium', async (t) => {
    let current = okWith(headerSet('allowed-warning-fable', 3600));
    const primary = await startMock((req, res, b, rec) => current(req, res, b, rec));
    const backup = await startMock(anthropicHandler());
    const db = path.join(tmpdir('cp-dash-'), 'usage.db');
    const proxy = await startProxy({ config: { usage_db: db, order: ['primary', 'backup'], cooldown_max: 86400,
      providers: { primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN, cooldown: 300 },
        backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN } } } });
    let browser = null;
    try {
      for (let i = 0; i < 3; i++) assert.equal((await post(proxy)).status, 200);
      current = (req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', ...headerSet('rejected-5h', 7835) });
        res.end(errorBody('plan-limit-429'));
      };
      assert.equal((await post(proxy)).status, 200, 'fell back to backup');
      let health;
      for (let i = 0; ; i++) { // the ledger's writer commits about once a second
        health = (await request(`${proxy.url}/health`)).json;
        if (health.usage_ledger.rows_written >= 4 || i > 100) break;
        await sleep(100);
      }
      assert.equal(health.usage_ledger.rows_written, 4);
      const cooling = health.providers.find((p) => p.name === 'primary');
      assert.equal(cooling.state, 'cooling');

      // /usage against the ledger's own rows (sqlite3 CLI when there is one)
      const u = (await request(`${proxy.url}/usage?since=24h&by=provider&recent=50`)).json;
      assert.deepEqual(u.rows.map((r) => [r.provider, r.requests, r.fell_back]), [['backup', 1, 1], ['primary', 3, 0]]);
      assert.equal(u.total.requests, 4);
      assert.equal(u.recent.length, 4);
      assert.deepEqual(u.recent.map((r) => r.provider), ['backup', 'primary', 'primary', 'primary']);
      assert.ok(!/Say hello|Hello there|sk-ant/.test(JSON.stringify(u)), 'no content, no secret');
      if (spawnSync('which', ['sqlite3']).status === 0) {
        const q = spawnSync('sqlite3', ['-readonly', db, 'SELECT provider, COUNT(*), SUM(input_tokens), SUM(output_tokens)'
          + ' FROM requests GROUP BY provider ORDER BY provider'], { encoding: 'utf8' });
        assert.equal(q.stdout.trim(), u.rows.map((r) => `${r.provider}|${r.requests}|${r.input_tokens}|${r.output_tokens}`)
          .join('\n'));
      }
      const hours = (await request(`${proxy.url}/usage?since=24h&by=hour`)).json;
      assert.equal(hours.rows.length, 1);
      assert.equal(hours.rows[0].start_ms % 3600000, 0);
      assert.deepEqual(Object.keys(hours.rows[0].providers), ['backup', 'primary']);
      assert.equal((await request(`${proxy.url}/usage?since=7d&by=day`)).json.rows[0].requests, 4);
      for (const [query, what] of [['by=week', /by must be/], ['since=yesterday', /since must be/],
        ['recent=51', /recent must be/], ['limit=5', /unknown/]]) {
        const r = await request(`${proxy.url}/usage?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(r.json.type, 'error');
        assert.equal(r.json.error.type, 'invalid_request_error');
        assert.match(r.json.error.message, what);
      }
      assert.equal((await request(`${proxy.url}/usage`, { headers: { origin: 'https://evil.example' } })).status, 403);
      assert.equal((await request(`${proxy.url}/usage`, { headers: { host: 'evil.example' } })).status, 403);

      // the page: its CSP, and / by what the client accepts
      const page = await request(`${proxy.url}/dashboard`);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'], /^text\/html/);
      const csp = page.headers['content-security-policy'];
      assert.match(csp, /default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; style-src 'sha256-/);
      assert.ok(!/unsafe|https?:/.test(csp), csp);
      assert.ok(!/<script src|https?:\/\/(?!www\.w3\.org)/.test(page.text), 'nothing external');
      const html = await request(`${proxy.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      assert.equal(html.text, page.text);
      assert.equal((await request(`${proxy.url}/`, { headers: { accept: 'application/json' } })).json.name, 'claude-proxy');
      assert.equal((await request(`${proxy.url}/`)).json.name, 'claude-proxy');

      if (!chromium) {
        t.skip('chromium is not installed and could not be (apt-get install chromium): browser checks skipped');
        return;
      }
      browser = await launch(chromium);
      const client = await CDP({ port: browser.port });
      const problems = [];
      try {
        const { Page, Runtime, Log } = client;
        Runtime.consoleAPICalled(({ type, args }) => {
          if (type === 'error' || type === 'warning') problems.push(`console.${type}: ${args.map((a) => a.value).join(' ')}`);
        });
        Runtime.exceptionThrown(({ exceptionDetails }) => problems.push(`exception: ${exceptionDetails.text}`
          + ` ${exceptionDetails.exception?.description ?? ''}`));
        Log.entryAdded(({ entry }) => { if (entry.level === 'error' || entry.level === 'warning') problems.push(`log: ${entry.text}`); });
        await Promise.all([Page.enable(), Runtime.enable(), Log.enable()]);
        await Page.navigate({ url: `${proxy.url}/dashboard` });
        await Page.loadEventFired();
        const evalJson = async (expr) => JSON.parse((await Runtime.evaluate({ expression: `JSON.stringify(${expr}) ?? 'null'`,
          returnByValue: true })).result.value);
        for (let i = 0; !(await evalJson('document.body.dataset.ready')); i++) {
          assert.ok(i < 100, 'the page never finished its first refresh');
          await sleep(50);
        }
        const readyAt = await evalJson('performance.now()');
        const dom = await evalJson(`(() => {
          const q = (s) => [...document.querySelectorAll(s)];
          return {
            providers: q('#providers tbody tr').map((tr) => ({ name: tr.dataset.provider, state: tr.dataset.state,
              label: tr.cells[1].textContent, detail: tr.cells[2].textContent })),
            serving: document.getElementById('serving').textContent,
            bars: q('#quota .bar').map((b) => [b.dataset.window, Number(b.dataset.value), b.firstChild.style.width]),
            hours: q('#chart-24h g.bucket').map((g) => Number(g.dataset.requests)),
            days: q('#chart-7d g.bucket').map((g) => Number(g.dataset.requests)),
            rects: q('#chart-24h rect').length,
            recent: q('#recent tbody tr').map((tr) => [...tr.cells].map((c) => c.textContent)),
            error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
            nav: performance.getEntriesByType('navigation')[0].toJSON(),
            fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
          };
        })()`);
        assert.equal(dom.error, '');
        const p = dom.providers.find((x) => x.name === 'primary'), b = dom.providers.find((x) => x.name === 'backup');
        assert.equal(p.state, 'cooling');
        assert.equal(p.label, 'cooling');
        assert.ok(p.detail.startsWith(`until ${hhmm(Date.parse(cooling.cooling_until))} — `), p.detail);
        assert.match(p.detail, /plan limit/);
        assert.equal(b.label, 'serving');
        assert.equal(dom.serving, 'A request now goes to backup.');
        const windows = cooling.quota.windows;
        assert.deepEqual(dom.bars.map(([w, v]) => [w, v]).sort(),
          Object.entries(windows).map(([w, x]) => [w, x.utilization ?? 0]).sort());
        for (const [w, v, width] of dom.bars) assert.equal(width, `${Math.min(100, Math.round(v * 100))}%`, w);
        assert.equal(dom.hours.length, 24, 'one bucket per hour');
        assert.equal(dom.hours.reduce((a, n) => a + n, 0), 4);
        assert.equal(dom.hours[23], 4, 'this hour');
        assert.equal(dom.rects, 2, 'primary and backup stacked in this hour');
        assert.equal(dom.days.length, 7, 'one bucket per day');
        assert.equal(dom.days[6], 4, 'today');
        assert.equal(dom.recent.length, 4);
        assert.deepEqual(dom.recent.map((r) => r[2]), ['backup ↩', 'primary', 'primary', 'primary']);
        assert.deepEqual(problems, [], 'no console error, exception or CSP violation');
        const shot = await client.Page.captureScreenshot({ format: 'png' });
        const artifacts = path.join(path.dirname(PROXY_BIN), 'artifacts');
        fs.mkdirSync(artifacts, { recursive: true });
        fs.writeFileSync(path.join(artifacts, 'dashboard.png'), Buffer.from(shot.data, 'base64'));
        t.diagnostic(`page ${Buffer.byteLength(page.text)} bytes; DOMContentLoaded ${dom.nav.domContentLoadedEventEnd.toFixed(1)} ms,`
          + ` load ${dom.nav.loadEventEnd.toFixed(1)} ms, first paint ${dom.fcp?.toFixed(1)} ms, data rendered by`
          + ` ${readyAt.toFixed(1)} ms; screenshot ${path.join(artifacts, 'dashboard.png')}`);
      } finally {
        await client.close();
      }
    } finally {
      if (browser) await browser.close();
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });
});
