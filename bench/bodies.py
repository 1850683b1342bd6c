#!/usr/bin/env python3
"""Writes the bench's request bodies and mock answers into DIR (default bench/out/data).

Requests, compact JSON as Claude Code sends them:
  small-{json,sse}.json   a one-line prompt without Claude Code's system prompt and tools
  real-{json,sse}.json    the real Claude Code request (tests/data/claude-code-request.json, ~113 KiB)
  bedrock-real-*.json     the same with a model that Bedrock serves through InvokeModel
  *-sse-vary.json         the real request whose last message ends with a marker that
                          post-vary.lua replaces with a counter (a session's requests differ there)
  real-sse-cold.json      the same with the marker in the system prompt and the first tool too: each
                          request's tools and system are new, as in a session's first request
  conv-{json,sse}.json    a ~1 MiB conversation: the real request followed by tool_use / tool_result
                          turns whose contents are the real request's own prose (escapes and all)
Answers, the same 56 events in both:
  answer.json             a short JSON message
  answer.sse              the Anthropic SSE stream
  answer.eventstream      the same events as Bedrock sends them: base64 JSON in `chunk` frames with CRCs
"""
import base64, json, os, struct, sys, zlib

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "out", "data")
os.makedirs(out, exist_ok=True)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def both(name, body):
    write(f"{name}-json.json", compact(dict(body, stream=False)))
    write(f"{name}-sse.json", compact(dict(body, stream=True)))


small = {"model": "claude-sonnet-5", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}
real = json.load(open(os.path.join(here, "..", "tests", "data", "claude-code-request.json")))
both("small", small)
both("real", real)
# Bedrock serves claude-sonnet-5 on its Messages-format endpoint only: a model it serves through
# InvokeModel (event-stream answers, the translated path), the body otherwise the same
both("bedrock-real", dict(real, model="claude-sonnet-4-5-20250929"))


def vary(name, body):
    """A session's consecutive requests: the same tools and system, the last message different each
    time. post-vary.lua puts a counter where VARY_MARK is."""
    last = dict(body["messages"][-1])
    if isinstance(last["content"], str):
        last["content"] += " (request @@VARY@@)"
    else:
        last["content"] = list(last["content"])
        last["content"][-1] = dict(last["content"][-1], text=last["content"][-1]["text"] + " (request @@VARY@@)")
    write(f"{name}-sse-vary.json", compact(dict(body, messages=body["messages"][:-1] + [last], stream=True)))


vary("real", real)
vary("bedrock-real", dict(real, model="claude-sonnet-4-5-20250929"))


def cold(name, body):
    """Requests that repeat nothing: the proxy checks the tools and system it has seen once with a
    memcmp (json_scan_object_memo); with markers in both, every request has them new."""
    system = list(body["system"])
    system[-1] = dict(system[-1], text=system[-1]["text"] + " (request @@VARY@@)")
    tools = list(body["tools"])
    tools[0] = dict(tools[0], description="(request @@VARY@@) " + tools[0]["description"])
    write(f"{name}-sse-cold.json", compact(dict(body, system=system, tools=tools, stream=True)))


cold("real", real)

prose = [t["description"] for t in real["tools"] if t.get("description")] + [real["system"][-1]["text"]]
conv = dict(real, messages=list(real["messages"]))
i = 0
while len(compact(conv).encode()) < 1024 * 1024:
    tid = f"toolu_bench{i:016d}"
    conv["messages"].append({"role": "assistant", "content": [
        {"type": "text", "text": "Let me read that file to see what it does."},
        {"type": "tool_use", "id": tid, "name": "Read", "input": {"file_path": f"/home/user/project/src/part{i}.md"}}]})
    conv["messages"].append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tid, "content": prose[i % len(prose)]}]})
    i += 1
both("conv", conv)

# 56 events: message_start, content_block_start, ping, 50 text deltas, content_block_stop, message_delta, message_stop
words = ("Sure. I read the file: it parses the request once, finds the model, and forwards the body as it came. "
         "The streaming path relays each event as it arrives, so the client sees the first token early and the "
         "connection stays open until the final event, which tells the client why the model stopped.").split()
assert len(words) >= 50, len(words)
events = [("message_start", {"message": {"id": "msg_bench", "type": "message", "role": "assistant",
           "model": "claude-sonnet-5", "content": [], "stop_reason": None, "stop_sequence": None,
           "usage": {"input_tokens": 25000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 24000,
                     "output_tokens": 1}}}),
          ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
          ("ping", {})]
for n, w in enumerate(words[:50]):
    events.append(("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": (" " if n else "") + w}}))
events += [("content_block_stop", {"index": 0}),
           ("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 60}}),
           ("message_stop", {})]
assert len(events) == 56
write("answer.sse", "".join(f"event: {t}\ndata: {compact(dict(type=t, **d))}\n\n" for t, d in events))
write("answer.json", compact({"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
      "content": [{"type": "text", "text": " ".join(words[:50])}], "stop_reason": "end_turn", "stop_sequence": None,
      "usage": {"input_tokens": 25000, "output_tokens": 60}}))


def frame(headers, payload):
    """One AWS event-stream message: prelude (total, headers length, CRC), headers, payload, CRC."""
    hb = b""
    for k, v in headers:
        hb += bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


stream = b""
for t, d in events:
    ev = dict(type=t, **d)
    if t == "message_stop":  # Bedrock adds its metrics to the last event
        ev["amazon-bedrock-invocationMetrics"] = {"inputTokenCount": 25000, "outputTokenCount": 60,
                                                  "invocationLatency": 1500, "firstByteLatency": 400}
    chunk = compact({"bytes": base64.b64encode(compact(ev).encode()).decode(), "p": "abcdefghijklmnopqrstuvwxyz"})
    stream += frame([(":event-type", "chunk"), (":content-type", "application/json"), (":message-type", "event")],
                    chunk.encode())
write("answer.eventstream", stream)
