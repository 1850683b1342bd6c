// A loopback stand-in for the Bedrock control plane's ListInferenceProfiles
// (GET /inference-profiles?type=SYSTEM_DEFINED), as strict as AWS: it checks SigV4 for service
// "bedrock" with AWS's own signer (via bedrock-mock.mjs), pages with maxResults/nextToken, and
// can refuse (AccessDeniedException, 403) or answer slowly. `state` may be changed by a test
// between listings.
import { startMock, sleep } from './harness.mjs';
import { verifySignature, AWS_KEYS } from './bedrock-mock.mjs';

// Inference profile ids: profileIds({ 'anthropic.claude-opus-4-6-v1': ['us', 'global'] })
export function profileIds(byModel) {
  return Object.entries(byModel).flatMap(([base, prefixes]) => prefixes.map((p) => `${p}.${base}`));
}

function summary(id, region) {
  const base = id.slice(id.indexOf('.') + 1);
  return {
    inferenceProfileName: `${id.split('.')[0].toUpperCase()} ${base}`,
    description: `Routes requests to ${base}`,
    createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
    inferenceProfileArn: `arn:aws:bedrock:${region}:123456789012:inference-profile/${id}`,
    models: [{ modelArn: `arn:aws:bedrock:${region}::foundation-model/${base}` }],
    inferenceProfileId: id, status: 'ACTIVE', type: 'SYSTEM_DEFINED',
  };
}

export const DENIED_MESSAGE = 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: '
  + 'bedrock:ListInferenceProfiles because no identity-based policy allows the bedrock:ListInferenceProfiles action';

export async function startControlPlaneMock({ credentials = AWS_KEYS, region = 'us-west-2', ids = [], pageSize = 2,
  refuse = false, delayMs = 0 } = {}) {
  const state = { ids, pageSize, refuse, delayMs, listings: 0 };
  const json = (res, status, body, type) => {
    const headers = { 'content-type': 'application/json', 'x-amzn-requestid': 'control-req-1' };
    if (type) headers['x-amzn-errortype'] = `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  };
  const mock = await startMock(async (req, res, body, record) => {
    record.verdict = await verifySignature(record, { credentials, region, service: 'bedrock' });
    if (!record.verdict.ok) {
      return json(res, 403, { message: `The request signature we calculated does not match the signature you provided. (${record.verdict.why})` },
        'InvalidSignatureException');
    }
    const url = new URL(record.url, 'http://x');
    if (req.method !== 'GET' || !url.pathname.endsWith('/inference-profiles')) {
      return json(res, 404, { message: `no operation ${req.method} ${url.pathname}` }, 'UnknownOperationException');
    }
    if (url.searchParams.get('nextToken') === null) state.listings++;
    if (state.delayMs) await sleep(state.delayMs);
    if (state.refuse) return json(res, 403, { message: DENIED_MESSAGE }, 'AccessDeniedException');
    record.type = url.searchParams.get('type');
    const ids = state.ids.filter(() => record.type === 'SYSTEM_DEFINED'); // this mock has no application profiles
    const max = Number(url.searchParams.get('maxResults') ?? 1000);
    if (!(max >= 1 && max <= 1000)) return json(res, 400, { message: '1 validation error detected: maxResults' }, 'ValidationException');
    const token = url.searchParams.get('nextToken');
    let start = 0;
    if (token !== null) {
      const m = /^p\+(\d+)\/x=$/.exec(token); // a '+' sent unencoded would arrive as a space
      start = m ? Number(m[1]) : -1;
      if (!(start > 0 && start <= ids.length)) {
        return json(res, 400, { message: 'Invalid pagination token' }, 'ValidationException');
      }
    }
    const n = Math.min(max, state.pageSize);
    const page = ids.slice(start, start + n).map((id) => summary(id, region));
    const out = { inferenceProfileSummaries: page };
    // opaque, and with '+', '/' and '=' like AWS's (base64) tokens: they must be encoded in a query
    if (start + n < ids.length) out.nextToken = `p+${start + n}/x=`;
    record.page = page.map((p) => p.inferenceProfileId);
    return json(res, 200, out);
  });
  mock.state = state;
  return mock;
}
