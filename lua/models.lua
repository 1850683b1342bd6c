-- Model names: Anthropic API ids <-> Bedrock ids.
-- Available to configs as `require "models"`; a config may extend `models.map` or replace
-- `models.to_bedrock` / `models.to_anthropic` entirely.
local models = {}

-- Anthropic id (and aliases) -> Bedrock base id, route and the inference profiles it has.
-- route "invoke": bedrock-runtime InvokeModel (event-stream); "mantle": the Messages-format
-- endpoint (bedrock-mantle), the only way Bedrock serves the newest models.
-- profiles: the cross-region inference profile prefixes Bedrock offers for the model, best
-- first (Anthropic's Bedrock model table, 2026-08). Without it the region's prefix is used.
-- An entry may also override the provider's request adaptation for that model (see
-- models.bedrock_defaults): betas (the beta allowlist, either route), betas_add (allowed on
-- InvokeModel besides the provider's list), drop_fields, thinking_budget (adaptive thinking ->
-- this budget on InvokeModel; 0 drops thinking), adaptive_thinking = true (passed as written).
local G_US_EU = { "global", "us", "eu" }
-- Opus/Sonnet 4.6 on InvokeModel take adaptive thinking, output_config and the effort beta:
-- Claude Code 2.1.331 sends them so (tests/data/claude-code-bedrock-mode.md), context_management
-- never.
local function adaptive_4_6(entry)
  entry.adaptive_thinking = true
  entry.drop_fields = { "context_management" }
  entry.betas_add = { "effort-2025-11-24" }
  return entry
end
models.map = {
  ["claude-3-5-haiku-20241022"]  = { id = "anthropic.claude-3-5-haiku-20241022-v1:0", profiles = { "us" } },
  -- retired on Bedrock: kept so that the error comes from Bedrock, not from a made-up id
  ["claude-3-5-sonnet-20241022"] = { id = "anthropic.claude-3-5-sonnet-20241022-v2:0" },
  ["claude-3-7-sonnet-20250219"] = { id = "anthropic.claude-3-7-sonnet-20250219-v1:0" },
  ["claude-opus-4-20250514"]     = { id = "anthropic.claude-opus-4-20250514-v1:0" },
  ["claude-sonnet-4-20250514"]   = { id = "anthropic.claude-sonnet-4-20250514-v1:0",
                                     profiles = { "global", "us", "eu", "apac" } },
  ["claude-opus-4-1-20250805"]   = { id = "anthropic.claude-opus-4-1-20250805-v1:0", profiles = { "us" } },
  ["claude-sonnet-4-5-20250929"] = { id = "anthropic.claude-sonnet-4-5-20250929-v1:0",
                                     profiles = { "global", "us", "eu", "jp" } },
  ["claude-haiku-4-5-20251001"]  = { id = "anthropic.claude-haiku-4-5-20251001-v1:0", profiles = G_US_EU },
  ["claude-opus-4-5-20251101"]   = { id = "anthropic.claude-opus-4-5-20251101-v1:0", profiles = G_US_EU },
  ["claude-opus-4-6"]            = adaptive_4_6({ id = "anthropic.claude-opus-4-6-v1",
                                                  profiles = { "global", "us", "eu", "jp", "apac" } }),
  ["claude-sonnet-4-6"]          = adaptive_4_6({ id = "anthropic.claude-sonnet-4-6",
                                                  profiles = { "global", "us", "eu", "jp" } }),
  ["claude-opus-4-7"]            = { id = "anthropic.claude-opus-4-7", route = "mantle" },
  ["claude-opus-4-8"]            = { id = "anthropic.claude-opus-4-8", route = "mantle" },
  ["claude-opus-5"]              = { id = "anthropic.claude-opus-5", route = "mantle" },
  ["claude-sonnet-5"]            = { id = "anthropic.claude-sonnet-5", route = "mantle" },
  ["claude-fable-5"]             = { id = "anthropic.claude-fable-5", route = "mantle" },
}

-- How a request written for the direct API is adapted for Bedrock, unless the provider's
-- config or the model's map entry says otherwise. The one place these defaults live.
models.bedrock_defaults = {
  -- InvokeModel: the anthropic-beta header becomes anthropic_beta, keeping only these: what
  -- Claude Code itself sends to Bedrock (interleaved thinking, tool search) and the betas of
  -- features Bedrock offers (1M context, tool streaming, computer use...); others are refused.
  betas_allowed = {
    "interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "fine-grained-tool-streaming-2025-05-14",
    "token-efficient-tools-2025-02-19", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29",
    "computer-use-2025-01-24", "computer-use-2025-11-24", "output-128k-2025-02-19",
  },
  -- InvokeModel refuses these fields ("Extra inputs are not permitted"); their betas go too.
  drop_fields = { "context_management", "output_config" },
  -- InvokeModel's models predate adaptive thinking: ask for this budget instead (0: drop it).
  adaptive_thinking_budget = 31999,
  -- The Messages-format endpoint takes the request as written, fields and their betas in
  -- pairs, minus what only Anthropic's own API accepts (the subscription's OAuth beta, the
  -- Claude Code identity beta).
  mantle_betas_denied = { "oauth-2025-04-20", "claude-code-20250219" },
  mantle_drop_fields = {},
}

-- Undated aliases Claude Code and users type.
models.aliases = {
  ["claude-3-5-haiku-latest"]  = "claude-3-5-haiku-20241022",
  ["claude-3-7-sonnet-latest"] = "claude-3-7-sonnet-20250219",
  ["claude-sonnet-4-0"]        = "claude-sonnet-4-20250514",
  ["claude-sonnet-4"]          = "claude-sonnet-4-20250514",
  ["claude-opus-4-0"]          = "claude-opus-4-20250514",
  ["claude-opus-4-1"]          = "claude-opus-4-1-20250805",
  ["claude-sonnet-4-5"]        = "claude-sonnet-4-5-20250929",
  ["claude-haiku-4-5"]         = "claude-haiku-4-5-20251001",
  ["claude-opus-4-5"]          = "claude-opus-4-5-20251101",
}

-- Cross-region inference profile prefix for a region, as Claude Code chooses it.
function models.region_prefix(region)
  region = region or ""
  if region:match("^us%-gov%-") then return "us-gov" end
  if region:match("^us%-") then return "us" end
  if region:match("^eu%-") then return "eu" end
  if region:match("^ap%-") then return "apac" end
  return "global"
end

-- The geography profiles a region can call, most local first: Tokyo and Osaka also have
-- Japan-only profiles, Sydney and Melbourne Australia-only ones.
local function region_geographies(region)
  region = region or ""
  if region:match("^ap%-northeast%-[13]$") then return { "jp", "apac" } end
  if region:match("^ap%-southeast%-[24]$") then return { "au", "apac" } end
  local p = models.region_prefix(region)
  if p == "global" then return {} end
  return { p }
end

local function offers(profiles, prefix)
  for _, p in ipairs(profiles) do if p == prefix then return true end end
  return false
end

-- The profile prefix for a model entry in a region: `prefer` (a region_prefix setting) when the
-- model offers it, else the region's geography, else global, else the model's first profile:
-- never a profile id that does not exist. `listed` (optional): the account's system-defined
-- inference profiles as the provider listed them, base id -> the prefixes the account has
-- ({ ["anthropic.claude-opus-5-5"] = { "us", "global" } }); where it names the model it replaces
-- the entry's static `profiles`.
function models.profile_for(entry, region, prefer, listed)
  local profiles = (listed and entry and listed[entry.id]) or (entry and entry.profiles)
  if not profiles or #profiles == 0 then return prefer or models.region_prefix(region) end
  if prefer and offers(profiles, prefer) then return prefer end
  for _, geo in ipairs(region_geographies(region)) do
    if offers(profiles, geo) then return geo end
  end
  if offers(profiles, "global") then return "global" end
  return profiles[1]
end

local profile_prefixes = { us = true, eu = true, apac = true, jp = true, au = true, global = true, ["us-gov"] = true }

-- Strips "[1m]" (a client-side context marker) and surrounding space.
local function clean(name)
  return (name:gsub("%[1m%]$", ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- A Bedrock-form id or ARN -> the Anthropic model name, or nil when `name` is not Bedrock-form.
-- us.anthropic.claude-sonnet-4-5-20250929-v1:0 -> claude-sonnet-4-5-20250929
-- anthropic.claude-opus-4-6-v1 -> claude-opus-4-6; ARNs keep their last path segment.
function models.to_anthropic(name)
  name = clean(name)
  local arn_tail = name:match("^arn:aws[%w-]*:bedrock:[^/]*/(.+)$")
  if arn_tail then name = arn_tail end
  local prefix, rest = name:match("^([%w-]+)%.(anthropic%..+)$")
  if prefix and profile_prefixes[prefix] then name = rest end
  local base = name:match("^anthropic%.(.+)$")
  if not base then
    if arn_tail then return nil end -- an application inference profile: no Anthropic name
    return nil
  end
  base = base:gsub("%-v%d+:%d+$", ""):gsub("%-v%d+$", "")
  return base
end

-- The model to send to Anthropic: Bedrock-form ids are normalised, others pass unchanged.
function models.for_anthropic(name)
  return models.to_anthropic(name) or clean(name)
end

-- The map entry for an Anthropic name or alias, or nil.
function models.entry(name)
  return models.map[models.aliases[name] or name]
end

-- A Bedrock-form id the client chose: InvokeModel keeps it (profile included); the Messages
-- endpoint names models without a profile prefix (anthropic.claude-opus-4-8).
local function bedrock_form(name)
  local anthropic = models.to_anthropic(name)
  local entry = anthropic and models.entry(anthropic)
  local route = (entry and entry.route) or "invoke"
  if route == "mantle" then
    name = name:match("^[%w-]+%.(anthropic%..+)$") or name
  end
  return name, route, entry
end

-- The base id the listing has for a model name the table does not know: the exact
-- "anthropic.<name>", else the newest listed id of that name with a date and/or version suffix
-- (claude-foo-6 -> anthropic.claude-foo-6-20270101-v1:0).
function models.listed_id(listed, name)
  if not listed then return nil end
  local exact = "anthropic." .. name
  if listed[exact] then return exact end
  local best
  for id in pairs(listed) do
    local base = models.to_anthropic(id)
    if base and (base == name or base:gsub("%-%d%d%d%d%d%d%d%d$", "") == name) and (not best or id > best) then
      best = id
    end
  end
  return best
end

-- An Anthropic model name (or alias, or Bedrock-form id) -> Bedrock model id, route and the
-- map entry (nil if none; per-model overrides). Known models use an inference profile the
-- model has (Sonnet 4 and later are not invocable on demand by base id); unknown claude-* names
-- follow the naming rule of the newest models, or the listing when it has them. `prefer`: a
-- preferred profile prefix; `listed`: see models.profile_for.
function models.to_bedrock(name, region, prefer, listed)
  name = clean(name)
  if prefer == "" then prefer = nil end
  if name:match("^arn:") then return name, "invoke" end
  local prefix = name:match("^([%w-]+)%.anthropic%.")
  if (prefix and profile_prefixes[prefix]) or name:match("^anthropic%.") then
    return bedrock_form(name)
  end
  local entry = models.entry(name)
  local canonical = models.aliases[name] or name
  local id, route
  if entry then
    id, route = entry.id, entry.route or "invoke"
  elseif canonical:match("^claude%-") then
    -- Not in the table: the account's listing names it, or dated ids follow "-v1:0" and newer
    -- undated ids use the Messages endpoint.
    local listed_id = models.listed_id(listed, canonical)
    if listed_id then
      return models.profile_for({ id = listed_id }, region, prefer, listed) .. "." .. listed_id, "invoke"
    end
    if canonical:match("%-%d%d%d%d%d%d%d%d$") then
      id, route = "anthropic." .. canonical .. "-v1:0", "invoke"
    else
      id, route = "anthropic." .. canonical, "mantle"
    end
  else
    return nil, "unknown model " .. name
  end
  if route == "mantle" then
    return id, route, entry -- the Messages endpoint takes the model id in the body, without a profile
  end
  return models.profile_for(entry, region, prefer, listed) .. "." .. id, route, entry
end

-- Every Anthropic model the table knows (for GET /v1/models in OpenAI form).
function models.list()
  local out = {}
  for k in pairs(models.map) do out[#out + 1] = k end
  table.sort(out)
  return out
end

return models
