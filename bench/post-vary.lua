-- wrk script: POST the body in the file named by BODY with its "@@VARY@@" markers replaced by a
-- counter, so that each request differs where the markers are: in the last message as a session's
-- consecutive requests do (the same tools and system, a new turn at the end), or also in the tools
-- and system (real-sse-cold.json).
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("a")
f:close()
local parts = {}
local from = 1
while true do
  local at = body:find("@@VARY@@", from, true)
  if not at then break end
  parts[#parts + 1] = body:sub(from, at - 1)
  from = at + 8
end
assert(#parts > 0, "no @@VARY@@ in the body")
parts[#parts + 1] = body:sub(from)
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
  local tag = (id or "0") .. "-" .. n
  return wrk.format("POST", nil, headers, table.concat(parts, tag))
end
