-- claude-proxy configuration (Lua 5.4).
--
-- Edit and reload without a restart: `claude-proxy reload` or `kill -HUP <pid>`.
-- A broken edit never takes the proxy down: the old config keeps serving and the error
-- (file:line) is logged and shown in GET /health. Check an edit first: `claude-proxy --check`.
--
-- Settings of the original tool keep working: CLAUDE_CODE_OAUTH_TOKEN, AWS_PROFILE, AWS_REGION,
-- PROXY_PORT, COOLDOWN_SECONDS, REQUEST_TIMEOUT.
local util = require "util"
local models = require "models"

return {
  -- Loopback only by default: anything that can reach the port can spend your subscription.
  listen = util.env("PROXY_LISTEN", "127.0.0.1"),
  port = util.env_number("PROXY_PORT", 47000),

  -- Seconds to wait for response headers, and the longest silence allowed between streamed
  -- bytes. Not a cap on a long stream.
  request_timeout = util.env_number("REQUEST_TIMEOUT", 60),
  -- Seconds of silence after which a translated stream (Bedrock, OpenAI clients) gets a ping,
  -- as Anthropic's own streams do.
  ping_interval = 15,
  -- Seconds a client that reads nothing may hold a stream open (its upstream waits meanwhile).
  stalled_client_timeout = 300,

  max_body = 32 * 1024 * 1024,          -- bytes; larger requests get 413
  log_level = util.env("CLAUDE_PROXY_LOG_LEVEL", "info"), -- debug, info, warn, error
  log_format = util.env("CLAUDE_PROXY_LOG_FORMAT", "text"), -- text or json
  log_file = util.env("CLAUDE_PROXY_LOG_FILE"),            -- nil: stderr
  pid_file = util.env("CLAUDE_PROXY_PID_FILE"),            -- nil: a 0700 dir in $XDG_RUNTIME_DIR, $TMPDIR or /tmp

  -- Who gets in (see SECURITY.md). Loopback Host names are always allowed.
  -- allowed_hosts = { "my-laptop.local" },
  -- allowed_origins = { },                  -- browser pages: none by default
  -- client_keys = { "ck-..." },             -- or client_keys_file = "/path/0600-file"
  header_timeout = 10,                       -- seconds to receive a request (slowloris)
  -- http2 = true,                           -- also HTTP/2 on the plaintext port (docs/configuration.md)

  -- Usage ledger (SQLite, one row per request, no content): nil = $XDG_STATE_HOME/claude-proxy/
  -- usage.db (~/.local/state/...), a path, or false for none. Rows older than this are deleted.
  -- usage_db = "/path/to/usage.db",
  usage_retention_days = 90,

  -- Provider chain: on a trigger outcome (see fallback_on) the next one serves the request.
  order = { "anthropic", "bedrock" },

  -- Cooldowns taken from the upstream's retry-after / rate-limit reset headers are kept in
  -- [cooldown_min, cooldown_max] seconds.
  cooldown_min = 1,
  cooldown_max = 6 * 3600,

  providers = {
    anthropic = {
      type = "anthropic",
      -- Never ANTHROPIC_BASE_URL: that is where Claude Code sends to us.
      base_url = util.env("CLAUDE_PROXY_ANTHROPIC_URL", "https://api.anthropic.com"),
      token = util.oauth_token(),        -- CLAUDE_CODE_OAUTH_TOKEN or ~/.config/claude-proxy/token
      ca_file = util.env("CLAUDE_PROXY_ANTHROPIC_CA_FILE"),
      cooldown = util.env_number("COOLDOWN_SECONDS", 300),
      -- What a 429 means: "plan_limit" (the quota headers say rejected: cool until the window
      -- resets), "throttle" (any other 429: cool for retry-after, else throttle_cooldown
      -- seconds), "extra_usage_required" (429/400 "Extra usage is required...": only that
      -- request moves on). A numeric 429 stands for all three. Also possible: "5xx", "timeout",
      -- any status.
      fallback_on = { "plan_limit", "throttle", "extra_usage_required", 529, "connect" },
      throttle_cooldown = 5,
      -- "avoid": once answers are billed as extra usage (beyond the plan), treat Anthropic as at
      -- its plan limit until the window resets and let the next provider serve; "use": keep on.
      extra_usage = "use",
    },
    bedrock = {
      type = "bedrock",
      region = util.env("AWS_REGION"),   -- else AWS_DEFAULT_REGION, the profile's region, us-west-2
      profile = util.env("AWS_PROFILE"), -- else default; env keys, credentials/config files, credential_process
      -- InvokeModel endpoint. Unset: AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then AWS_ENDPOINT_URL (as
      -- the AWS SDKs do), then https://bedrock-runtime.{region}.amazonaws.com.
      -- endpoint = "https://vpce-....bedrock-runtime.us-east-1.vpce.amazonaws.com",
      -- bedrock-mantle endpoint (a model's last route by default).
      mantle_endpoint = util.env("CLAUDE_PROXY_BEDROCK_MANTLE_URL"),
      -- Control plane, where the account's inference profiles are listed (model ids). Unset:
      -- AWS_ENDPOINT_URL_BEDROCK, then AWS_ENDPOINT_URL, then https://bedrock.{region}.amazonaws.com.
      -- control_endpoint = "https://vpce-....bedrock.us-east-1.vpce.amazonaws.com",
      -- list_profiles = false,          -- never list: the static table in lua/models.lua only
      ca_file = util.env("CLAUDE_PROXY_BEDROCK_CA_FILE"),
      -- Preferred inference profile (us, eu, apac, jp, au, global, us-gov), used for a model that
      -- has it; else the region's geography, else global, else a profile the model has.
      region_prefix = util.env("ANTHROPIC_BEDROCK_REGION_PREFIX"),
      -- Bedrock's service tier (default, flex, priority), sent as X-Amzn-Bedrock-Service-Tier.
      -- Unset: ANTHROPIC_BEDROCK_SERVICE_TIER, as Claude Code's Bedrock mode reads it; else none.
      -- service_tier = "flex",
      cooldown = util.env_number("COOLDOWN_SECONDS", 300),
      fallback_on = { 429, 529, "connect" },
      -- Stop using Bedrock (as if it were cooling) once its spend this local day / month
      -- reaches this, counted from the usage ledger (docs/configuration.md, Budgets):
      -- budget = { usd_per_day = 5, usd_per_month = 50 },
      -- Prices of this provider when they differ from lua/prices.lua (USD per million tokens):
      -- prices = { ["claude-opus-5-5"] = { input = 4.4, output = 22 } },
      -- A Bedrock API key instead of AWS credentials (Authorization: Bearer), else
      -- AWS_BEARER_TOKEN_BEDROCK as Claude Code reads it. api_key_file must be mode 0600.
      -- api_key_file = os.getenv("HOME") .. "/.config/claude-proxy/bedrock-api-key",
      -- A request that falls back was written for the direct API. How it is adapted per route
      -- (invoke, runtime, mantle) comes from models.adapt in lua/models.lua, the one table of
      -- those rules (mirroring what Claude Code itself sends to Bedrock); change it there or per
      -- model with betas / betas_add / drop_fields / thinking_budget in a models.map entry.
    },
  },

  -- Model names and routes: see lua/models.lua. Each model tries its routes in order
  -- (models.default_routes: invoke, runtime, mantle) and moves on when one does not serve it.
  -- Override per model here (statements go before `return`), e.g.
  -- models.map["claude-opus-4-8"].routes = { "mantle", "invoke" }
  -- models.map["claude-opus-4-6"].thinking_budget = 16000
  models = models,

  -- Optional per-request routing: return a provider order (and optionally a model). req has
  -- path, model, stream, client, headers, and quota: quota.anthropic (once Anthropic answered)
  -- is what its quota headers last said: status ("allowed", "allowed_warning", "rejected"),
  -- windows["5h"], ["7d"], ... each with utilization (0..1), reset (epoch s) and status, and
  -- extra_usage.in_use. This one moves Haiku (Claude Code's background work: titles, summaries)
  -- to Bedrock once the plan nears a limit, keeping the subscription for the main conversation.
  -- It runs on the event loop, stopped after 1e6 instructions or 1 s of CPU (checked between
  -- instructions, so keep patterns on req.path and headers simple: one backtracking
  -- string.match runs to its end):
  -- route = function(req)
  --   local q = req.quota.anthropic
  --   local five = q and q.windows["5h"]
  --   local near = q and (q.status == "allowed_warning" or (five and (five.utilization or 0) >= 0.8))
  --   if near and req.model:match("haiku") then return { "bedrock", "anthropic" } end
  -- end,
}
