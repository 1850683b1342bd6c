#!/usr/bin/env python3
"""Reference SigV4 signature for the Bedrock case in tests/unit/test_sigv4.c, computed by an
independent implementation (botocore, Debian's python3-botocore). Run it to re-derive the value
hard-coded in the C test."""
import datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

body = b'{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
url = ("https://bedrock-runtime.us-west-2.amazonaws.com/model/"
       "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream")
req = AWSRequest(method="POST", url=url, data=body,
                 headers={"content-type": "application/json", "accept": "application/vnd.amazon.eventstream",
                          "X-Amz-Content-SHA256": __import__("hashlib").sha256(body).hexdigest()})
creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN/with+chars=")
fixed = datetime.datetime(2026, 11, 24, 12, 0, 0)
with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
    auth = SigV4Auth(creds, "bedrock", "us-west-2")
    auth.add_auth(req)
print(req.headers["X-Amz-Date"])
print(req.headers["Authorization"])
