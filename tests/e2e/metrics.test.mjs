// GET /metrics: the whole output must be valid Prometheus text format (0.0.4), checked strictly
// here, and its numbers must say what happened: every upstream attempt (the 429 that made the
// proxy fall back included), the proxy's own refusals, and per-attempt upstream times.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock, startProxy, stopProxy, request, anthropicHandler, freePort, sleep, OAUTH_TOKEN, API_KEY }
  from './lib/harness.mjs';

// ------------------------------------------------------------------------------------------
// A strict validator of the text format. Stricter than Prometheus where that catches our own
// mistakes: every family needs HELP and TYPE, no other comments, no trailing commas.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

const parseValue = (s) => (s === '+Inf' || s === 'Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));

// Parses `{a="x",b="y\"z"}` content into an object; throws on bad syntax.
function parseLabels(src, where) {
  const labels = {};
  let i = 0;
  while (i < src.length) {
    const eq = src.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = src.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${where}: bad label name ${name}`);
    if (name in labels) throw new Error(`${where}: duplicate label ${name}`);
    if (src[eq + 1] !== '"') throw new Error(`${where}: label ${name} value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (;; j++) {
      if (j >= src.length) throw new Error(`${where}: unterminated value of ${name}`);
      const c = src[j];
      if (c === '"') break;
      if (c === '\n') throw new Error(`${where}: raw newline in a label value`);
      if (c === '\\') {
        const e = src[++j];
        if (e === '\\' || e === '"') value += e;
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${e} in label ${name}`);
      } else {
        value += c;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (i < src.length) {
      if (src[i] !== ',' || i + 1 === src.length) throw new Error(`${where}: expected ',' between labels`);
      i++;
    }
  }
  return labels;
}

// Splits a sample line into name, label text and value, honouring quotes in label values.
function splitSample(line, where) {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace < 0 || (space >= 0 && space < brace)) {
    const [name, value, ...rest] = line.split(' ');
    if (rest.length > 1) throw new Error(`${where}: trailing fields`);
    return { name, labelText: '', value, timestamp: rest[0] };
  }
  let j = brace + 1, quoted = false;
  for (; j < line.length; j++) {
    if (quoted && line[j] === '\\') j++;
    else if (line[j] === '"') quoted = !quoted;
    else if (!quoted && line[j] === '}') break;
  }
  if (j >= line.length) throw new Error(`${where}: unterminated labels`);
  const [value, ...rest] = line.slice(j + 1).replace(/^ /, '').split(' ');
  if (line[j + 1] !== ' ' || rest.length > 1) throw new Error(`${where}: bad value part`);
  return { name: line.slice(0, brace), labelText: line.slice(brace + 1, j), value, timestamp: rest[0] };
}

// Which family a sample name belongs to, given its type.
function sampleBelongs(family, type, name) {
  if (type === 'histogram') return [`${family}_bucket`, `${family}_sum`, `${family}_count`].includes(name);
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`].includes(name);
  return name === family;
}

function checkHistogram(fam) {
  const groups = new Map();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!groups.has(key)) groups.set(key, { buckets: [], sum: null, count: null });
    const g = groups.get(key);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${fam.name}: bucket without le`);
      if (!FLOAT.test(le)) throw new Error(`${fam.name}: bad le ${le}`);
      g.buckets.push({ le: parseValue(le), leText: le, v: s.value });
    } else {
      if (le !== undefined) throw new Error(`${fam.name}: le on ${s.name}`);
      const field = s.name.endsWith('_sum') ? 'sum' : 'count';
      if (g[field] !== null) throw new Error(`${fam.name}: two ${field} for ${key}`);
      g[field] = s.value;
    }
  }
  for (const [key, g] of groups) {
    const where = `${fam.name}${key}`;
    if (g.sum === null || g.count === null) throw new Error(`${where}: _sum or _count missing`);
    if (g.buckets.length === 0 || g.buckets.at(-1).leText !== '+Inf') throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i].le > g.buckets[i - 1].le)) throw new Error(`${where}: le not increasing`);
      if (g.buckets[i].v < g.buckets[i - 1].v) throw new Error(`${where}: buckets not cumulative`);
    }
    if (g.buckets.at(-1).v !== g.count) throw new Error(`${where}: +Inf bucket ${g.buckets.at(-1).v} != _count ${g.count}`);
  }
}

// Returns Map(family name -> {name, type, help, samples: [{name, labels, value}]}); throws with
// the line number on the first violation.
export function validatePrometheus(text) {
  if (!text.endsWith('\n')) throw new Error('the output does not end with a newline');
  const families = new Map();
  const seriesSeen = new Set();
  let current = null; // the family whose samples may follow
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, n) => {
    const where = `line ${n + 1} (${line})`;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (line.startsWith('#')) {
      if (!meta) throw new Error(`${where}: only HELP and TYPE comments are expected`);
      const [, kind, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      let fam = families.get(name);
      if (fam && fam !== current) throw new Error(`${where}: family ${name} is not contiguous`);
      if (fam && fam.samples.length) throw new Error(`${where}: ${kind} after samples of ${name}`);
      if (!fam) { fam = { name, type: null, help: null, samples: [] }; families.set(name, fam); }
      current = fam;
      if (kind === 'HELP') {
        if (fam.help !== null) throw new Error(`${where}: second HELP`);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        fam.help = rest;
      } else {
        if (fam.type !== null) throw new Error(`${where}: second TYPE`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        fam.type = rest;
      }
      return;
    }
    if (line.trim() === '') throw new Error(`${where}: blank line`);
    const s = splitSample(line, where);
    if (!METRIC_NAME.test(s.name)) throw new Error(`${where}: bad metric name`);
    if (!FLOAT.test(s.value)) throw new Error(`${where}: bad value`);
    if (s.timestamp !== undefined && !/^-?\d+$/.test(s.timestamp)) throw new Error(`${where}: bad timestamp`);
    if (!current || current.help === null || current.type === null) throw new Error(`${where}: sample before HELP and TYPE`);
    if (!sampleBelongs(current.name, current.type, s.name)) {
      throw new Error(`${where}: sample of ${s.name} inside family ${current.name} (families must be contiguous)`);
    }
    const labels = parseLabels(s.labelText, where);
    const id = `${s.name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(id)) throw new Error(`${where}: duplicate series`);
    seriesSeen.add(id);
    const value = parseValue(s.value);
    if (current.type === 'counter' && !(value >= 0)) throw new Error(`${where}: negative counter`);
    current.samples.push({ name: s.name, labels, value });
  });
  for (const fam of families.values()) {
    if (fam.help === null || fam.type === null) throw new Error(`${fam.name}: HELP or TYPE missing`);
    if (fam.type === 'counter' && !fam.name.endsWith('_total')) throw new Error(`${fam.name}: a counter not named _total`);
    if (fam.type === 'histogram') checkHistogram(fam);
  }
  return families;
}

// The value of one series (labels must match exactly); undefined if absent.
function metric(families, name, labels = {}) {
  const famName = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
  const fam = families.get(famName);
  const want = JSON.stringify(Object.entries(labels).sort());
  return fam?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

// ------------------------------------------------------------------------------------------

describe('the validator', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{p="x"} 1\n';
  const hist = (b1, inf, count) => `# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} ${b1}\nh_bucket{le="+Inf"} ${inf}\n`
    + `h_sum 0.5\nh_count ${count}\n`;
  test('accepts valid output', () => {
    validatePrometheus(ok);
    validatePrometheus(hist(1, 2, 2));
    validatePrometheus('# HELP g G.\n# TYPE g gauge\ng{p="a\\"b\\\\c\\nd"} -1.5e3\n');
  });
  test('rejects what Prometheus would reject or misread', () => {
    const bad = {
      'interleaved families (the old cooldown gauges)': '# HELP c C.\n# TYPE c gauge\nc{p="a"} 1\nr{p="a"} 0\nc{p="b"} 0\n',
      'a sample without HELP/TYPE': `${ok}b 1\n`,
      'a family split in two': `${ok}# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a_total A.\n`,
      'TYPE after a sample': '# HELP g G.\ng 1\n# TYPE g gauge\n',
      'buckets not cumulative': `# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n`,
      '+Inf != count': hist(1, 2, 3),
      'no +Inf bucket': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      'unquoted label': '# HELP g G.\n# TYPE g gauge\ng{p=a} 1\n',
      'bad escape': '# HELP g G.\n# TYPE g gauge\ng{p="a\\tb"} 1\n',
      'duplicate label': '# HELP g G.\n# TYPE g gauge\ng{p="a",p="b"} 1\n',
      'duplicate series': '# HELP g G.\n# TYPE g gauge\ng{p="a"} 1\ng{p="a"} 2\n',
      'bad value': '# HELP g G.\n# TYPE g gauge\ng 1,5\n',
      'no final newline': ok.trimEnd(),
    };
    for (const [what, text] of Object.entries(bad)) assert.throws(() => validatePrometheus(text), Error, what);
  });
});

const body = (extra = {}) => ({ model: 'claude-sonnet-5', max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello' }], ...extra });

function rateLimitedAfter(ms) {
  return async (req, res) => {
    await sleep(ms);
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'rate limit exceeded' } }));
  };
}

// A provider name that needs escaping in a label value.
const ODD_NAME = 'odd "name" \\ with\nnewline';

describe('/metrics', () => {
  test('a fallback: the whole output is valid, every attempt is counted, times are per attempt', async () => {
    const SLOW_429_MS = 600;
    const primary = await startMock(rateLimitedAfter(SLOW_429_MS));
    const backup = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: {
      order: ['primary', 'backup', ODD_NAME],
      providers: {
        primary: { type: 'anthropic', base_url: primary.url, token: OAUTH_TOKEN },
        backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN },
        [ODD_NAME]: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN },
      },
      cooldown_max: 3600,
    } });
    try {
      validatePrometheus((await request(`${proxy.url}/metrics`)).text); // before any traffic
      const first = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(first.status, 200, first.text);
      const streamed = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ stream: true }) });
      assert.equal(streamed.status, 200);
      const openai = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST',
        body: { model: 'claude-sonnet-5', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(openai.status, 200, openai.text);
      const invalid = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: { messages: [] } });
      assert.equal(invalid.status, 400);

      const text = (await request(`${proxy.url}/metrics`)).text;
      const m = validatePrometheus(text);
      // Prometheus's own linter too, where installed (Debian: the prometheus package)
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (!promtool.error) assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 3);
      // every attempt, the fallback's 429 included
      assert.equal(metric(m, 'claude_proxy_upstream_responses_total', { provider: 'primary', status: '429' }), 1);
      assert.equal(metric(m, 'claude_proxy_upstream_responses_total', { provider: 'backup', status: '200' }), 3);
      // client responses: by the provider that answered; the proxy's own 400 under "proxy"
      const req = (provider, endpoint, status) => metric(m, 'claude_proxy_requests_total', { provider, endpoint, status });
      assert.equal(req('backup', 'messages', '200'), 2);
      assert.equal(req('backup', 'chat_completions', '200'), 1);
      assert.equal(req('proxy', 'messages', '400'), 1);
      assert.equal(req('primary', 'messages', '429'), undefined, 'the 429 was not relayed');
      assert.equal(metric(m, 'claude_proxy_fallbacks_total', { provider: 'primary' }), 1);
      assert.equal(metric(m, 'claude_proxy_fallbacks_total', { provider: 'backup' }), 0);
      assert.equal(metric(m, 'claude_proxy_cooldowns_total', { provider: 'primary' }), 1);
      assert.equal(metric(m, 'claude_proxy_provider_cooling', { provider: 'primary' }), 1);
      assert.equal(metric(m, 'claude_proxy_provider_cooling', { provider: 'backup' }), 0);
      const left = metric(m, 'claude_proxy_provider_cooldown_remaining_seconds', { provider: 'primary' });
      assert.ok(left > 20 && left <= 30, `remaining ${left}`);
      assert.equal(metric(m, 'claude_proxy_upstream_failures_total', { provider: 'primary', reason: 'connect' }), 0);
      // the odd name comes back intact through the escaping
      assert.equal(metric(m, 'claude_proxy_provider_cooling', { provider: ODD_NAME }), 0);

      // times: the slow 429 is the primary's; the backup's attempts are timed on their own
      const ttfbCount = (p) => metric(m, 'claude_proxy_upstream_time_to_first_byte_seconds_count', { provider: p });
      assert.equal(ttfbCount('primary'), 1);
      assert.ok(metric(m, 'claude_proxy_upstream_time_to_first_byte_seconds_sum', { provider: 'primary' })
        >= SLOW_429_MS / 1000 - 0.01);
      assert.equal(ttfbCount('backup'), 3);
      assert.equal(metric(m, 'claude_proxy_upstream_latency_seconds_count', { provider: 'primary' }), 0,
        'the attempt that fell back answered nobody');
      assert.equal(metric(m, 'claude_proxy_upstream_latency_seconds_count', { provider: 'backup' }), 3);
      assert.equal(metric(m, 'claude_proxy_upstream_latency_seconds_bucket', { provider: 'backup', le: '0.5' }), 3,
        'no backup attempt carries the primary\'s 600 ms');
      // the client-side duration does include the time lost on the primary
      assert.equal(metric(m, 'claude_proxy_request_duration_seconds_count'), 3);
      assert.equal(metric(m, 'claude_proxy_request_duration_seconds_bucket', { le: '0.5' }), 2);
      assert.ok(metric(m, 'claude_proxy_bytes_streamed_total') > 0);
      assert.equal(metric(m, 'claude_proxy_active_streams'), 0);
    } finally {
      await stopProxy(proxy, assert);
      await primary.close(); await backup.close();
    }
  });

  test('tokens and cost by provider and model: spend for an API key, value for the subscription', async () => {
    const up = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: {
      order: [ODD_NAME],
      providers: { [ODD_NAME]: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } },
    } });
    try {
      const before = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      assert.ok(before.has('claude_proxy_tokens_total') && before.has('claude_proxy_spend_usd_total'));
      const model = 'claude-sonnet-5-5';
      for (const stream of [false, true]) {
        const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model, stream }) });
        assert.equal(r.status, 200, r.text);
      }
      const keyed = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model: 'odd "model"\\' }),
        headers: { 'x-api-key': API_KEY } });
      assert.equal(keyed.status, 200, keyed.text);
      const keyedSonnet = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body({ model }),
        headers: { 'x-api-key': API_KEY } });
      assert.equal(keyedSonnet.status, 200, keyedSonnet.text);
      const m = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      const tokens = (model, type) => metric(m, 'claude_proxy_tokens_total', { provider: ODD_NAME, model, type });
      // the mock reports 12 input and 5 output tokens per answer, JSON or stream
      assert.equal(tokens(model, 'input'), 36);
      assert.equal(tokens(model, 'output'), 15);
      assert.equal(tokens(model, 'cache_read'), 0);
      assert.equal(tokens('odd "model"\\', 'input'), 12);
      // Sonnet 5.5 at $2/$10 per MTok: 12 * 2 + 5 * 10 = 74 micro-dollars per answer
      const near = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
      near(metric(m, 'claude_proxy_subscription_value_usd_total', { provider: ODD_NAME, model }), 2 * 74e-6);
      near(metric(m, 'claude_proxy_spend_usd_total', { provider: ODD_NAME, model }), 74e-6);
      // a model without a price: tokens counted, no cost
      assert.equal(metric(m, 'claude_proxy_spend_usd_total', { provider: ODD_NAME, model: 'odd "model"\\' }), 0);
      assert.match(proxy.output, /no price for model odd "model"/);
    } finally {
      await stopProxy(proxy, assert);
      await up.close();
    }
  });

  test('a provider named "none" is counted under its name, not as the proxy', async () => {
    const up = await startMock(anthropicHandler());
    const proxy = await startProxy({ config: {
      order: ['none'],
      providers: { none: { type: 'anthropic', base_url: up.url, token: OAUTH_TOKEN } },
    } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200, r.text);
      const m = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      const req = (provider) => metric(m, 'claude_proxy_requests_total', { provider, endpoint: 'messages', status: '200' });
      assert.equal(req('none'), 1);
      assert.equal(req('proxy'), undefined);
      assert.equal(metric(m, 'claude_proxy_request_duration_seconds_count'), 1);
    } finally {
      await stopProxy(proxy, assert);
      await up.close();
    }
  });

  test('an unreachable provider counts as a failed attempt, not a response', async () => {
    const backup = await startMock(anthropicHandler());
    const closed = await freePort();
    const proxy = await startProxy({ config: {
      order: ['primary', 'backup'],
      providers: {
        primary: { type: 'anthropic', base_url: `http://127.0.0.1:${closed}`, token: OAUTH_TOKEN },
        backup: { type: 'anthropic', base_url: backup.url, token: OAUTH_TOKEN },
      },
    } });
    try {
      const r = await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() });
      assert.equal(r.status, 200);
      const m = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      assert.equal(metric(m, 'claude_proxy_upstream_failures_total', { provider: 'primary', reason: 'connect' }), 1);
      assert.equal(metric(m, 'claude_proxy_upstream_failures_total', { provider: 'primary', reason: 'timeout' }), 0);
      assert.ok(!m.get('claude_proxy_upstream_responses_total').samples.some((s) => s.labels.provider === 'primary'));
      assert.equal(metric(m, 'claude_proxy_fallbacks_total', { provider: 'primary' }), 1);
      assert.equal(metric(m, 'claude_proxy_upstream_latency_seconds_count', { provider: 'backup' }), 1);
    } finally {
      await stopProxy(proxy, assert);
      await backup.close();
    }
  });

  test('quota gauges: utilization and reset by window, status as labelled 0/1 series, extra usage', async () => {
    const now = Math.floor(Date.now() / 1000);
    const quota = {
      'anthropic-ratelimit-unified-status': 'allowed_warning',
      'anthropic-ratelimit-unified-reset': String(now + 3600),
      'anthropic-ratelimit-unified-5h-status': 'allowed_warning',
      'anthropic-ratelimit-unified-5h-utilization': '0.91',
      'anthropic-ratelimit-unified-5h-reset': String(now + 3600),
      'anthropic-ratelimit-unified-7d_oi-utilization': '0.2',
      'anthropic-ratelimit-unified-overage-status': 'rejected',
      'anthropic-ratelimit-unified-overage-disabled-reason': 'org_level_disabled',
    };
    const upstream = await startMock((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...quota });
      res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-5',
        content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }));
    });
    const proxy = await startProxy({ config: { order: [ODD_NAME, 'quiet'], providers: {
      [ODD_NAME]: { type: 'anthropic', base_url: upstream.url, token: OAUTH_TOKEN },
      quiet: { type: 'anthropic', base_url: upstream.url, token: OAUTH_TOKEN },
    } } });
    try {
      let m = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      assert.equal(m.get('claude_proxy_quota_utilization_ratio').samples.length, 0, 'nothing known yet');
      assert.equal((await request(`${proxy.url}/v1/messages`, { method: 'POST', body: body() })).status, 200);
      m = validatePrometheus((await request(`${proxy.url}/metrics`)).text);
      const p = { provider: ODD_NAME };
      assert.equal(metric(m, 'claude_proxy_quota_utilization_ratio', { ...p, window: '5h' }), 0.91);
      assert.equal(metric(m, 'claude_proxy_quota_utilization_ratio', { ...p, window: '7d_oi' }), 0.2);
      assert.equal(metric(m, 'claude_proxy_quota_reset_timestamp_seconds', { ...p, window: '5h' }), now + 3600);
      assert.equal(metric(m, 'claude_proxy_quota_reset_timestamp_seconds', { ...p, window: 'overall' }), now + 3600);
      assert.equal(metric(m, 'claude_proxy_quota_reset_timestamp_seconds', { ...p, window: '7d_oi' }), undefined);
      for (const [window, want] of [['overall', 'allowed_warning'], ['5h', 'allowed_warning'], ['extra_usage', 'rejected']]) {
        for (const status of ['allowed', 'allowed_warning', 'rejected']) {
          assert.equal(metric(m, 'claude_proxy_quota_status', { ...p, window, status }), status === want ? 1 : 0,
            `${window} ${status}`);
        }
      }
      assert.equal(metric(m, 'claude_proxy_quota_status', { ...p, window: '7d_oi', status: 'allowed' }), undefined,
        'no status stated, no status series');
      assert.equal(metric(m, 'claude_proxy_quota_extra_usage_in_use', p), 0);
      const seen = metric(m, 'claude_proxy_quota_last_seen_timestamp_seconds', p);
      assert.ok(seen >= now && seen <= now + 10, String(seen));
      assert.ok(!m.get('claude_proxy_quota_status').samples.some((s) => s.labels.provider === 'quiet'));
    } finally {
      await stopProxy(proxy, assert);
      await upstream.close();
    }
  });
});
