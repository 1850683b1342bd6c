// A loopback stand-in for AWS STS GetCallerIdentity (the Query protocol: a form-encoded POST,
// an XML answer), strict about SigV4 for service "sts" (checked with AWS's own signer, via
// bedrock-mock.mjs). `state.refuse` answers as STS does for keys it does not know.
import { startMock } from './harness.mjs';
import { verifySignature, AWS_KEYS } from './bedrock-mock.mjs';

export const IDENTITY = { account: '123456789012', arn: 'arn:aws:iam::123456789012:user/doctor-test', userId: 'AIDATESTUSERID' };

export async function startStsMock({ credentials = AWS_KEYS, region = 'us-west-2', refuse = false } = {}) {
  const state = { refuse };
  const xml = (res, status, text) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': 'sts-req-1' });
    res.end(text);
  };
  const error = (code, message) => `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>`
    + `<Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>`
    + '<RequestId>sts-req-1</RequestId></ErrorResponse>';
  const mock = await startMock(async (req, res, body, record) => {
    record.verdict = await verifySignature(record, { credentials, region, service: 'sts' });
    const form = new URLSearchParams(body.toString());
    if (req.method !== 'POST' || form.get('Action') !== 'GetCallerIdentity' || form.get('Version') !== '2011-06-15') {
      return xml(res, 400, error('InvalidAction', 'Could not find operation'));
    }
    if (state.refuse) return xml(res, 403, error('InvalidClientTokenId', 'The security token included in the request is invalid.'));
    if (!record.verdict.ok) {
      return xml(res, 403, error('SignatureDoesNotMatch', `The request signature we calculated does not match the signature you provided. (${record.verdict.why})`));
    }
    return xml(res, 200, '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
      + `<GetCallerIdentityResult><Arn>${IDENTITY.arn}</Arn><UserId>${IDENTITY.userId}</UserId>`
      + `<Account>${IDENTITY.account}</Account></GetCallerIdentityResult>`
      + '<ResponseMetadata><RequestId>sts-req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
  });
  mock.state = state;
  return mock;
}
