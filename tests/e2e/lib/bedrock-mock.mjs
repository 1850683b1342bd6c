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

// behaviour(record, verdict) may return a handler (req, res) to override the default answer.
export async function startBedrockMock({ credentials = AWS_KEYS, region = 'us-west-2', behaviour = null,
  delayMs = 0 } = {}) {
  const mock = await startMock(async (req, res, body, record) => {
    // an endpoint may carry a path prefix (VPC endpoints, gateways): match the operation's tail
    const mantle = record.url.includes('/anthropic/v1/messages');
    record.verdict = await verifySignature(record, { credentials, region, service: mantle ? 'bedrock-mantle' : 'bedrock' });
    try { record.json = JSON.parse(body.toString()); } catch { record.json = null; }
    if (!record.verdict.ok) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' });
      res.end(JSON.stringify({ message: `The request signature we calculated does not match the signature you provided. (${record.verdict.why})` }));
      return;
    }
    const custom = behaviour && behaviour(record);
    if (custom) return custom(req, res);
    if (record.url.endsWith('/count-tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ inputTokens: 77 }));
    } else if (record.url.endsWith('/invoke')) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'bedrock-req-1' });
      res.end(JSON.stringify(messageJson('Hello from Bedrock', 'claude-sonnet-4-5-20250929')));
    } else if (record.url.endsWith('/invoke-with-response-stream')) {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json' });
      for (const ev of answerEvents()) {
        const f = chunkFrame(ev);
        // split frames across writes to exercise the decoder's reassembly
        res.write(f.subarray(0, 7));
        if (delayMs) await sleep(delayMs);
        res.write(f.subarray(7));
      }
      res.end();
    } else if (mantle && record.url.endsWith('/count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: 55 }));
    } else if (mantle) {
      const j = record.json || {};
      if (j.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const e of sseEvents('Hello from Bedrock mantle', j.model)) res.write(e);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(messageJson('Hello from Bedrock mantle', j.model)));
      }
    } else {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' });
      res.end('{}');
    }
  });
  return mock;
}

export function bedrockEnv(extra = {}) {
  return { AWS_ACCESS_KEY_ID: AWS_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_KEYS.secretAccessKey,
    AWS_REGION: 'us-west-2', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...extra };
}
