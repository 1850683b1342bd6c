-- wrk script: POST a body from the file named by the BODY environment variable.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("a")
f:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.headers["authorization"] = "Bearer sk-ant-oat01-benchmark-token-not-a-secret"
