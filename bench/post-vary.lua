-- wrk script: POST the body in the file named by BODY with its "@@VARY@@" marker replaced by a
-- counter, so that each request differs in its last message as a session's consecutive requests do
-- (the same tools and system, a new turn at the end).
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("a")
f:close()
local at = assert(body:find("@@VARY@@", 1, true), "no @@VARY@@ in the body")
local head, tail = body:sub(1, at - 1), body:sub(at + 8)
local headers = {
  ["content-type"] = "application/json",
  ["anthropic-version"] = "2023-06-01",
  ["authorization"] = "Bearer sk-ant-oat01-benchmark-token-not-a-secret",
}
local n = 0
function setup(thread)
  thread:set("id", tostring(math.random(1, 1000000)))
end
request = function()
  n = n + 1
  return wrk.format("POST", nil, headers, head .. (id or "0") .. "-" .. n .. tail)
end
