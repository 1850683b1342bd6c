// A loopback stand-in for AWS Bedrock that checks each request's SigV4 signature with AWS's
// own signer (@smithy/signature-v4) and encodes streaming answers with AWS's own event-stream
// codec (@smithy/eventstream-codec): nothing here shares code with the proxy.
import { SignatureV4 } from '@smithy/signature-v4';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { Sha256 } from '@aws-crypto/sha256-js';
import { startMock, sseEvents, messageJson, sleep } from './harness.mjs';

export const AWS_KEYS = { accessKeyId: 'AKIDTESTEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY' };
const codec = new EventStreamCodec(toUtf8, fromUtf8);

// Recomputes the signature of an incoming request: same signed headers, same date.
export async function verifySignature(record, { credentials, region, service }) {
  const auth = record.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, why: `malformed authorization: ${auth}` };
  const [, keyId, , reqRegion, reqService, signedHeaders, signature] = m;
  if (keyId !== credentials.accessKeyId) return { ok: false, why: `unknown key ${keyId}` };
  if (reqRegion !== region || reqService !== service) return { ok: false, why: `scope ${reqRegion}/${reqService}` };
  const headers = {};
  for (const h of signedHeaders.split(';')) headers[h] = record.headers[h];
  const amzDate = record.headers['x-amz-date'];
  const date = new Date(Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8),
    +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15)));
  const [path, query] = record.url.split('?');
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum: true });
  const signed = await signer.sign({ method: record.method, protocol: 'https:', hostname: headers.host.split(':')[0],
    port: undefined, path, query: query ? Object.fromEntries(new URLSearchParams(query)) : {}, headers,
    body: record.body }, { signingDate: date, signableHeaders: new Set(signedHeaders.split(';')) });
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  return expected === signature ? { ok: true } : { ok: false, why: `signature mismatch (expected ${expected})` };
}

function frame(headers, body) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  return Buffer.from(codec.encode({ headers: h, body: typeof body === 'string' ? fromUtf8(body) : body }));
}

export function chunkFrame(eventJson) {
  const bytes = Buffer.from(JSON.stringify(eventJson)).toString('base64');
  return frame({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify({ bytes, p: 'abcdefgh' }));
}

export function exceptionFrame(type, message) {
  return frame({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message }));
}

// The Anthropic events of a short answer, as objects.
export function answerEvents(text = 'Hello from Bedrock', model = 'claude-sonnet-4-5-20250929') {
  return sseEvents(text, model).map((e) => JSON.parse(e.split('\ndata: ')[1]));
}

// ---- Bedrock's rules, as the shared note "bedrock-and-quota-2026-12" states them (sources there) ----
// The models Bedrock knows, by base id: gen 'old' (before 4.6: an enabled thinking budget, no
// output_config), 'adaptive' (4.6), 'current' (4.7 and later: anthropic-version 2026-10-21 too).
// onDemand: invocable by base id without an inference profile (only models before Sonnet 4).
export const CATALOG = {
  'anthropic.claude-3-5-haiku-20241022-v1:0': { gen: 'old', onDemand: true, profiles: ['us'] },
  'anthropic.claude-3-7-sonnet-20250219-v1:0': { gen: 'old', onDemand: true, profiles: ['us', 'eu', 'apac'] },
  'anthropic.claude-sonnet-4-20250514-v1:0': { gen: 'old', profiles: ['global', 'us', 'eu', 'apac'] },
  'anthropic.claude-opus-4-20250514-v1:0': { gen: 'old', profiles: ['us'] },
  'anthropic.claude-opus-4-1-20250805-v1:0': { gen: 'old', profiles: ['us'] },
  'anthropic.claude-sonnet-4-5-20250929-v1:0': { gen: 'old', profiles: ['global', 'us', 'eu', 'jp'] },
  'anthropic.claude-haiku-4-5-20251001-v1:0': { gen: 'old', profiles: ['global', 'us', 'eu'] },
  'anthropic.claude-opus-4-5-20251101-v1:0': { gen: 'old', profiles: ['global', 'us', 'eu'] },
  'anthropic.claude-opus-4-6-v1': { gen: 'adaptive', profiles: ['global', 'us', 'eu', 'jp', 'apac'] },
  'anthropic.claude-sonnet-4-6': { gen: 'adaptive', profiles: ['global', 'us', 'eu', 'jp'] },
};
for (const m of ['opus-4-7', 'opus-4-8', 'opus-5', 'sonnet-5', 'fable-5', 'fable-5-1', 'fable-5-2', 'opus-5-5',
  'sonnet-5-5', 'haiku-5-5']) {
  CATALOG[`anthropic.claude-${m}`] = { gen: 'current', profiles: ['global', 'us', 'eu', 'jp', 'apac', 'au'] };
}
const CURRENT = Object.keys(CATALOG).filter((id) => CATALOG[id].gen === 'current');
// bedrock-mantle's own lineup per region (one account's ap-northeast-1 served only Opus 4.8)
export const MANTLE_LINEUP = {
  'us-west-2': CURRENT, 'us-east-1': CURRENT, 'eu-central-1': CURRENT.filter((id) => !id.includes('fable')),
  'ap-northeast-1': ['anthropic.claude-opus-4-8'],
};
// the geographies a region may call (its own, and global)
export function regionProfiles(region) {
  if (/^ap-northeast-[13]$/.test(region)) return ['jp', 'apac', 'global'];
  if (/^ap-southeast-[24]$/.test(region)) return ['au', 'apac', 'global'];
  if (region.startsWith('us-')) return ['us', 'global'];
  if (region.startsWith('eu-')) return ['eu', 'global'];
  if (region.startsWith('ap-')) return ['apac', 'global'];
  return ['global'];
}
// InvokeModel refuses unknown betas ("invalid beta flag"): what Claude Code's Bedrock mode sends
// and the betas of features Bedrock offers
export const INVOKE_BETAS = new Set(['interleaved-thinking-2025-05-14', 'tool-search-tool-2025-10-19',
  'thinking-token-count-2026-05-13', 'effort-2025-11-24', 'context-1m-2025-08-07',
  'fine-grained-tool-streaming-2025-05-14', 'token-efficient-tools-2025-02-19', 'tool-examples-2025-10-29',
  'computer-use-2025-01-24', 'computer-use-2025-11-24', 'output-128k-2025-02-19', 'claude-code-20250219']);
// betas no Bedrock route takes (Anthropic-only, or of unsupported features)
export const REFUSED_BETAS = new Set(['oauth-2025-04-20', 'structured-outputs-2025-11-13', 'files-api-2025-04-14',
  'web-search-2025-03-05', 'web-fetch-2025-09-10', 'code-execution-2025-05-22', 'code-execution-2025-08-25',
  'mcp-client-2025-04-04', 'mcp-client-2025-11-20']);
const USER_ID = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$/;
const SERVER_TOOL = /^(web_search_|web_fetch_|code_execution_)/;
// Mock-signed thinking: a signature "sig-<model>" was written by that model (others are not checked)
export const signatureOf = (model) => `sig-${model}`;

class Refusal extends Error {
  constructor(status, type, message) { super(message); this.status = status; this.type = type; }
}
const invalidId = () => new Refusal(400, 'ValidationException', 'The provided model identifier is invalid.');

// A profile id / base id -> { base, prefix } (throws Bedrock's refusal for unknown ids)
function parseId(id, region, { needProfile, catalog }) {
  const m = /^(?:(us|eu|apac|jp|au|global|us-gov)\.)?(anthropic\..+)$/.exec(id || '');
  if (!m || !catalog[m[2]]) throw invalidId();
  const [, prefix, base] = m;
  const info = catalog[base];
  if (prefix && (!info.profiles.includes(prefix) || !regionProfiles(region).includes(prefix))) throw invalidId();
  if (!prefix && needProfile && !info.onDemand) {
    throw new Refusal(400, 'ValidationException', `Invocation of model ID ${base} with on-demand throughput isn\u2019t `
      + 'supported. Retry your request with the ID or ARN of an inference profile that contains this model.');
  }
  return { base, prefix, info };
}

const extra = (field) => new Refusal(400, 'ValidationException', `${field}: Extra inputs are not permitted`);

// What every route refuses in the body, for a model of generation `gen`.
function checkBody(j, gen, { route }) {
  for (const f of ['inference_geo', 'fallbacks']) if (f in j) throw extra(f);
  if (route === 'invoke') for (const f of ['model', 'stream', 'context_management']) if (f in j) throw extra(f);
  if (j.output_config && 'format' in j.output_config) throw extra('output_config.format');
  if (gen === 'old' && 'output_config' in j) throw extra('output_config');
  (j.tools || []).forEach((t, i) => {
    if (t.type && SERVER_TOOL.test(t.type)) {
      throw new Refusal(400, 'ValidationException', `tools.${i}: tool type '${t.type}' is not supported`);
    }
    if ('strict' in t) throw extra(`tools.${i}.strict`);
  });
  if (j.thinking) {
    if (j.thinking.type === 'adaptive' && gen === 'old') {
      throw new Refusal(400, 'ValidationException', "thinking.type: Input should be 'enabled' or 'disabled'");
    }
    if (j.thinking.type === 'enabled' && !(j.thinking.budget_tokens < j.max_tokens)) {
      throw new Refusal(400, 'ValidationException', '`max_tokens` must be greater than `thinking.budget_tokens`');
    }
  }
  if (route !== 'invoke' && j.metadata && j.metadata.user_id !== undefined && !USER_ID.test(j.metadata.user_id)) {
    throw new Refusal(400, 'ValidationException', 'Request metadata contains a value that violates the regular expression');
  }
}

function checkSignatures(j, served) {
  (j.messages || []).forEach((m, i) => {
    if (m.role !== 'assistant' || !Array.isArray(m.content)) return;
    m.content.forEach((b, k) => {
      if (b.type === 'thinking' && typeof b.signature === 'string' && b.signature.startsWith('sig-')
        && b.signature !== signatureOf(served)) {
        throw new Refusal(400, 'ValidationException', `messages.${i}.content.${k}: Invalid \`signature\` in \`thinking\` block`);
      }
    });
  });
}

function checkHeaderBetas(header, route) {
  for (const b of (header || '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (REFUSED_BETAS.has(b) || (route === 'runtime' && b === 'claude-code-20250219') ||
      (route === 'mantle' && b === 'claude-code-20250219')) {
      throw new Refusal(400, 'ValidationException', `Unexpected value(s) \`${b}\` for the \`anthropic-beta\` header.`);
    }
  }
}

function checkVersionHeader(v, gen) {
  if (v === '2023-06-01' || (v === '2026-10-21' && gen === 'current')) return;
  throw new Refusal(400, 'ValidationException', `anthropic-version: "${v}" is not supported for this model`);
}

// The Anthropic model name a base id stands for (what the mock's answers and signatures name).
export const modelName = (base) => base.replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');

// Checks a request against the route's rules; returns { route, served, stream } or throws a Refusal.
function validate(record, { region, invokeLineup, runtimeLineup, mantleLineup, catalog }) {
  const j = record.json;
  const url = record.url.split('?')[0];
  let m;
  if (record.host === 'runtime' && (m = /\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(url))) {
    const id = decodeURIComponent(m[1]);
    const count = m[2] === 'count-tokens';
    if (!j) throw new Refusal(400, 'ValidationException', 'Malformed input request');
    const { base, info } = parseId(id, region, { needProfile: !count, catalog });
    if (invokeLineup && !invokeLineup.includes(base)) throw invalidId();
    const inner = count ? JSON.parse(Buffer.from(j.input.invokeModel.body, 'base64').toString()) : j;
    if (inner.anthropic_version !== 'bedrock-2023-05-31') {
      throw new Refusal(400, 'ValidationException', 'anthropic_version: Field required');
    }
    for (const b of inner.anthropic_beta || []) {
      if (!INVOKE_BETAS.has(b)) throw new Refusal(400, 'ValidationException', 'invalid beta flag');
    }
    if (!Number.isInteger(inner.max_tokens)) throw new Refusal(400, 'ValidationException', 'max_tokens: Field required');
    checkBody(inner, info.gen, { route: 'invoke' });
    checkSignatures(inner, modelName(base));
    return { route: 'invoke', op: m[2], served: modelName(base), stream: m[2] === 'invoke-with-response-stream' };
  }
  if (!/\/anthropic\/v1\/messages(\/count_tokens)?$/.test(url)) {
    throw new Refusal(404, 'UnknownOperationException', '');
  }
  const route = record.host === 'mantle' ? 'mantle' : 'runtime';
  const count = url.endsWith('/count_tokens');
  if (!j) throw new Refusal(400, 'ValidationException', 'Malformed input request');
  if (route === 'runtime' && count) {
    throw new Refusal(200, 'UnknownOperationException', ''); // 200 + UnknownOperationException, as Bedrock does
  }
  let base, info;
  if (route === 'runtime') {
    ({ base, info } = parseId(j.model, region, { needProfile: true, catalog }));
    if (!/^[a-z]+\./.test(j.model) || /:\d+$/.test(base)) throw invalidId(); // profile ids of the new naming only
    if (runtimeLineup && !runtimeLineup.includes(base)) throw invalidId();
  } else {
    if (!/^anthropic\.[a-z0-9-]+$/.test(j.model || '') || /-v\d+$/.test(j.model)) throw invalidId();
    base = j.model;
    info = catalog[base];
    if (!info || !(mantleLineup || MANTLE_LINEUP[region] || []).includes(base)) {
      throw new Refusal(404, 'not_found_error', `model: ${j.model} is not available in this region`);
    }
  }
  checkVersionHeader(record.headers['anthropic-version'], info.gen);
  checkHeaderBetas(record.headers['anthropic-beta'], route);
  checkBody(j, info.gen, { route });
  checkSignatures(j, modelName(base));
  return { route, op: count ? 'count_tokens' : 'messages', served: modelName(base), stream: !!j.stream };
}

function refuse(res, e, route) {
  if (e.status === 200 && e.type === 'UnknownOperationException') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Output: { __type: 'com.amazon.coral.service#UnknownOperationException' }, Version: '1.0' }));
  } else if (route === 'mantle') {
    // bedrock-mantle answers in Anthropic's shape
    const type = e.type === 'not_found_error' ? 'not_found_error' : 'invalid_request_error';
    res.writeHead(e.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type, message: e.message } }));
  } else {
    res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${e.type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
    res.end(JSON.stringify({ message: e.message }));
  }
}

// The account's system-defined inference profiles (what Claude Code lists before its first turn).
function listProfiles(region, catalog) {
  const summaries = [];
  for (const [base, info] of Object.entries(catalog)) {
    for (const p of info.profiles.filter((x) => regionProfiles(region).includes(x))) {
      const id = `${p}.${base}`;
      summaries.push({ inferenceProfileId: id, inferenceProfileName: id, status: 'ACTIVE', type: 'SYSTEM_DEFINED',
        inferenceProfileArn: `arn:aws:bedrock:${region}:123456789012:inference-profile/${id}`,
        models: [{ modelArn: `arn:aws:bedrock:${region}::foundation-model/${base}` }] });
    }
  }
  return { inferenceProfileSummaries: summaries };
}

// A stand-in for Bedrock on two loopback servers: `url` is bedrock-runtime (InvokeModel and the
// runtime Messages route, SigV4 service bedrock), `mantleUrl` is bedrock-mantle (service
// bedrock-mantle). Every request is checked against the rules above and refused the way Bedrock
// refuses it; record.accepted says it passed. behaviour(record) may return a handler (req, res)
// to answer instead (after the signature check). apiKey: a Bedrock API key also accepted
// (Authorization: Bearer). invokeLineup / runtimeLineup: the base ids those routes serve this
// account (default all); mantleLineup: bedrock-mantle's (default MANTLE_LINEUP[region]); models:
// more models this Bedrock knows ({ base id: { gen, profiles } }); thinking: answers begin with a
// thinking block signed by the model that served it.
export async function startBedrockMock({ credentials = AWS_KEYS, region = 'us-west-2', behaviour = null,
  delayMs = 0, apiKey = null, invokeLineup = null, runtimeLineup = null, mantleLineup = null, thinking = false, models = {} } = {}) {
  const requests = [];
  const catalog = { ...CATALOG, ...models };
  const handler = (host) => async (req, res, body, record) => {
    record.host = host;
    requests.push(record);
    const service = host === 'mantle' ? 'bedrock-mantle' : 'bedrock';
    const auth = record.headers.authorization || '';
    if (auth.startsWith('Bearer ')) {
      record.verdict = apiKey && auth === `Bearer ${apiKey}` ? { ok: true, apiKey: true } : { ok: false, why: 'bad API key' };
    } else {
      record.verdict = await verifySignature(record, { credentials, region, service });
    }
    try { record.json = JSON.parse(body.toString()); } catch { record.json = null; }
    if (!record.verdict.ok) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' });
      res.end(JSON.stringify({ message: `The request signature we calculated does not match the signature you provided. (${record.verdict.why})` }));
      return;
    }
    if (host === 'runtime' && req.method === 'GET' && record.url.split('?')[0].endsWith('/inference-profiles')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(listProfiles(region, catalog)));
      return;
    }
    const custom = behaviour && behaviour(record);
    if (custom) return custom(req, res);
    let v;
    try {
      v = validate(record, { region, invokeLineup, runtimeLineup, mantleLineup, catalog });
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      record.refused = { status: e.status, type: e.type, message: e.message };
      refuse(res, e, host === 'mantle' ? 'mantle' : 'runtime');
      return;
    }
    record.accepted = v;
    const text = v.route === 'invoke' ? 'Hello from Bedrock' : `Hello from Bedrock ${v.route}`;
    const events = answerEvents(text, v.served);
    if (thinking) {
      events.splice(1, 0, { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: signatureOf(v.served) } },
        { type: 'content_block_stop', index: 0 });
      for (const e of events.slice(5)) if ('index' in e) e.index = 1;
    }
    if (v.op === 'count-tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ inputTokens: 77 }));
    } else if (v.op === 'count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: 55 }));
    } else if (v.op === 'invoke') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'bedrock-req-1' });
      res.end(JSON.stringify(messageJson(text, v.served)));
    } else if (v.op === 'invoke-with-response-stream') {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json' });
      for (const ev of events) {
        const f = chunkFrame(ev);
        // split frames across writes to exercise the decoder's reassembly
        res.write(f.subarray(0, 7));
        if (delayMs) await sleep(delayMs);
        res.write(f.subarray(7));
      }
      res.end();
    } else if (v.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(messageJson(text, v.served)));
    }
  };
  const runtime = await startMock(handler('runtime'));
  const mantle = await startMock(handler('mantle'));
  return { url: runtime.url, mantleUrl: mantle.url, requests, region,
    async close() { await runtime.close(); await mantle.close(); } };
}

export function bedrockEnv(extra = {}) {
  return { AWS_ACCESS_KEY_ID: AWS_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_KEYS.secretAccessKey,
    AWS_REGION: 'us-west-2', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...extra };
}
