#!/usr/bin/env python3
"""The client of bench/instructions.sh: POSTs a body N times on one keep-alive connection.
  instr_client.py PORT QUERY BODY N [vary]      (QUERY: "" or e.g. "?sse=1")
vary: each request's last message differs (a counter appended to its text), as consecutive Claude Code
requests share tools and system and differ at the end of the conversation. Exits 1 on any answer
other than 200 or one without the expected end (message_stop for streams, msg_bench otherwise)."""
import http.client, json, sys

port, query, path, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
vary = len(sys.argv) > 5 and sys.argv[5] == "vary"
body = open(path, "rb").read()
stream = json.loads(body).get("stream") is True


def variant(i):
    if not vary:
        return body
    obj = json.loads(body)
    last = obj["messages"][-1]
    text = f" (request {i})"
    if isinstance(last["content"], str):
        last["content"] += text
    else:
        last["content"][-1]["text"] += text
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


bodies = [variant(i) for i in range(n)]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
headers = {"content-type": "application/json", "anthropic-version": "2023-06-01",
           "authorization": "Bearer sk-ant-oat01-benchmark-token-not-a-secret"}
for i in range(n):
    conn.request("POST", "/v1/messages" + query, body=bodies[i], headers=headers)
    r = conn.getresponse()
    data = r.read()
    want = b"event: message_stop" if stream else b'"msg_bench"'
    if r.status != 200 or want not in data:
        sys.stderr.write(f"request {i}: {r.status} {data[:300]!r}\n")
        sys.exit(1)
