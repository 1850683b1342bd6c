-- Model names: Anthropic API ids <-> Bedrock ids.
-- Available to configs as `require "models"`; a config may extend `models.map` or replace
-- `models.to_bedrock` / `models.to_anthropic` entirely.
local models = {}

-- Anthropic id (and aliases) -> Bedrock base id and route.
-- route "invoke": bedrock-runtime InvokeModel (event-stream); "mantle": the Messages-format
-- endpoint (bedrock-mantle), the only way Bedrock serves the newest models.
models.map = {
  ["claude-3-5-haiku-20241022"]  = { id = "anthropic.claude-3-5-haiku-20241022-v1:0" },
  ["claude-3-5-sonnet-20241022"] = { id = "anthropic.claude-3-5-sonnet-20241022-v2:0" },
  ["claude-3-7-sonnet-20250219"] = { id = "anthropic.claude-3-7-sonnet-20250219-v1:0" },
  ["claude-sonnet-4-20250514"]   = { id = "anthropic.claude-sonnet-4-20250514-v1:0" },
  ["claude-opus-4-20250514"]     = { id = "anthropic.claude-opus-4-20250514-v1:0" },
  ["claude-opus-4-1-20250805"]   = { id = "anthropic.claude-opus-4-1-20250805-v1:0" },
  ["claude-sonnet-4-5-20250929"] = { id = "anthropic.claude-sonnet-4-5-20250929-v1:0" },
  ["claude-haiku-4-5-20251001"]  = { id = "anthropic.claude-haiku-4-5-20251001-v1:0" },
  ["claude-opus-4-5-20251101"]   = { id = "anthropic.claude-opus-4-5-20251101-v1:0" },
  ["claude-opus-4-6"]            = { id = "anthropic.claude-opus-4-6-v1" },
  ["claude-sonnet-4-6"]          = { id = "anthropic.claude-sonnet-4-6" },
  ["claude-opus-4-7"]            = { id = "anthropic.claude-opus-4-7", route = "mantle" },
  ["claude-opus-4-8"]            = { id = "anthropic.claude-opus-4-8", route = "mantle" },
  ["claude-opus-5"]              = { id = "anthropic.claude-opus-5", route = "mantle" },
  ["claude-sonnet-5"]            = { id = "anthropic.claude-sonnet-5", route = "mantle" },
  ["claude-fable-5"]             = { id = "anthropic.claude-fable-5", route = "mantle" },
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

-- An Anthropic model name (or alias, or Bedrock-form id) -> Bedrock model id and route.
-- Known models use the region's inference profile (Sonnet 4 and later are not invocable on
-- demand by base id); unknown claude-* names follow the naming rule of the newest models.
function models.to_bedrock(name, region)
  name = clean(name)
  if name:match("^arn:") then return name, "invoke" end
  local prefix = name:match("^([%w-]+)%.anthropic%.")
  if prefix and profile_prefixes[prefix] then
    local anthropic = models.to_anthropic(name)
    local entry = anthropic and models.map[anthropic]
    return name, (entry and entry.route) or "invoke"
  end
  if name:match("^anthropic%.") then
    local anthropic = models.to_anthropic(name)
    local entry = anthropic and models.map[anthropic]
    return name, (entry and entry.route) or "invoke"
  end
  local canonical = models.aliases[name] or name
  local entry = models.map[canonical]
  local id, route
  if entry then
    id, route = entry.id, entry.route or "invoke"
  elseif canonical:match("^claude%-") then
    -- Not in the table: dated ids follow "-v1:0", newer undated ids use the Messages endpoint.
    if canonical:match("%-%d%d%d%d%d%d%d%d$") then
      id, route = "anthropic." .. canonical .. "-v1:0", "invoke"
    else
      id, route = "anthropic." .. canonical, "mantle"
    end
  else
    return nil, "unknown model " .. name
  end
  if route == "mantle" then
    return id, route -- the Messages endpoint takes the model id in the body, without a profile
  end
  return models.region_prefix(region) .. "." .. id, route
end

-- Every Anthropic model the table knows (for GET /v1/models in OpenAI form).
function models.list()
  local out = {}
  for k in pairs(models.map) do out[#out + 1] = k end
  table.sort(out)
  return out
end

return models
