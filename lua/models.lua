-- Model names: Anthropic API ids <-> Bedrock ids.
-- Available to configs as `require "models"`; a config may extend `models.map` or replace
-- `models.bedrock_routes` / `models.to_anthropic` entirely (the proxy calls bedrock_routes and
-- adaptation; to_bedrock is the first of a model's routes, for configs that ask).
local models = {}

-- Anthropic id (and aliases) -> Bedrock base id, the inference profiles it has, its routes.
-- Routes (how Bedrock is reached; docs/bedrock.md):
--   "invoke":  bedrock-runtime InvokeModel (event-stream), SigV4 service bedrock, profile id in the path
--   "runtime": the Messages API on bedrock-runtime (/anthropic/v1/messages), service bedrock,
--              profile id in the body, SSE
--   "mantle":  bedrock-mantle (/anthropic/v1/messages), service bedrock-mantle, bare
--              anthropic.<name> id in the body, SSE, a per-region lineup of its own
-- routes: the order a model's routes are tried in (default models.default_routes: InvokeModel
-- first, as Claude Code's own Bedrock mode sends every model there). When a route answers that
-- it does not serve the model, the proxy tries the next one and remembers that per model and
-- region (shown in /health).
-- profiles: the cross-region inference profile prefixes Bedrock offers for the model, best
-- first (Anthropic's Bedrock model table). Without it the region's prefix is used. Where the
-- account's own list of profiles is known it replaces this one (profile_for's `profiles`).
-- adaptive = true: the model takes adaptive thinking and output_config (effort), as Claude
-- Code sends them for 4.6 and later; older models get an enabled thinking budget instead.
-- version_2026 = true: the model takes anthropic-version 2026-10-21 (Claude 4.7 and later).
-- mantle_id: the id on bedrock-mantle when it is not the base id without its version suffix.
-- An entry may also override the route adaptation (models.adapt) for its model: betas (the
-- whole beta allowlist, every route), betas_add (allowed besides the route's list),
-- drop_fields (replaces the route's list), thinking_budget (adaptive thinking -> this budget;
-- 0 drops thinking), adaptive_thinking = true (passed as written).
models.default_routes = { "invoke", "runtime", "mantle" }

local G_US_EU = { "global", "us", "eu" }
-- the current generation: every geography Bedrock has
local CURRENT = { "global", "us", "eu", "jp", "apac", "au" }
local function adaptive(entry)
  entry.adaptive = true
  return entry
end
local function current(id)
  return { id = id, profiles = CURRENT, adaptive = true, version_2026 = true }
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
  -- 4.6: adaptive thinking, output_config and the effort beta on InvokeModel, as Claude Code
  -- 2.1.331 sends them (tests/data/claude-code-bedrock-mode.md)
  ["claude-opus-4-6"]            = adaptive({ id = "anthropic.claude-opus-4-6-v1",
                                              profiles = { "global", "us", "eu", "jp", "apac" } }),
  ["claude-sonnet-4-6"]          = adaptive({ id = "anthropic.claude-sonnet-4-6",
                                              profiles = { "global", "us", "eu", "jp" } }),
  -- the new generation: ids without a version suffix, invocable through profiles only
  ["claude-opus-4-7"]            = current("anthropic.claude-opus-4-7"),
  ["claude-opus-4-8"]            = current("anthropic.claude-opus-4-8"),
  ["claude-opus-5"]              = current("anthropic.claude-opus-5"),
  ["claude-sonnet-5"]            = current("anthropic.claude-sonnet-5"),
  ["claude-fable-5"]             = current("anthropic.claude-fable-5"),
  ["claude-fable-5-1"]           = current("anthropic.claude-fable-5-1"),
  ["claude-fable-5-2"]           = current("anthropic.claude-fable-5-2"),
  ["claude-opus-5-5"]            = current("anthropic.claude-opus-5-5"),
  ["claude-sonnet-5-5"]          = current("anthropic.claude-sonnet-5-5"),
  ["claude-haiku-5-5"]           = current("anthropic.claude-haiku-5-5"),
}

-- How a request written for the direct API is adapted for each route: the one table of these
-- rules (the shared note's section 2; what Claude Code itself sends to Bedrock). Everything not
-- named here passes byte for byte.
local INVOKE_BETAS = {
  -- what Claude Code's Bedrock mode sends (accepted), and the betas of features Bedrock offers
  "interleaved-thinking-2025-05-14", "tool-search-tool-2025-10-19", "thinking-token-count-2026-05-13",
  "context-1m-2025-08-07", "fine-grained-tool-streaming-2025-05-14", "token-efficient-tools-2025-02-19",
  "tool-examples-2025-10-29", "computer-use-2025-01-24", "computer-use-2025-11-24", "output-128k-2025-02-19",
}
-- betas of what Bedrock does not offer (structured outputs, server tools, files) and of
-- Anthropic's own API alone (the subscription's OAuth, the Claude Code identity)
local REFUSED_BETAS = {
  "oauth-2025-04-20", "claude-code-20250219", "structured-outputs-2025-11-13", "files-api-2025-04-14",
  "web-search-2025-03-05", "web-fetch-2025-09-10", "code-execution-2025-05-22", "code-execution-2025-08-25",
  "mcp-client-2025-04-04", "mcp-client-2025-11-20",
}
-- refused by every route for the current generation: "Extra inputs are not permitted"
local REFUSED_FIELDS = { "inference_geo", "fallbacks" }
models.adapt = {
  invoke = {
    body_version = "bedrock-2023-05-31",  -- anthropic_version in the body; betas in anthropic_beta
    betas_allowed = INVOKE_BETAS,         -- InvokeModel refuses others ("invalid beta flag")
    adaptive_betas = { "effort-2025-11-24" }, -- allowed too for models that take adaptive thinking
    -- Claude Code never sends context_management to InvokeModel
    drop_fields = { "context_management", "inference_geo", "fallbacks" },
    drop_output_format = true,            -- output_config.format (structured outputs)
    drop_tool_strict = true,              -- tools[].strict
    drop_server_tools = true,             -- web_search_*, web_fetch_*, code_execution_* (+ betas)
    user_id = "keep",                     -- takes the JSON user_id Claude Code's Bedrock mode sends
  },
  runtime = {
    version_header = true,                -- anthropic-version 2023-06-01 (2026-10-21 where taken)
    betas_denied = REFUSED_BETAS,         -- the anthropic-beta header, fields and betas in pairs
    drop_fields = REFUSED_FIELDS,
    drop_output_format = true, drop_tool_strict = true, drop_server_tools = true,
    user_id = "hash",                     -- metadata.user_id must match [a-zA-Z0-9\s:_@$#=/+,-.]{0,256}
  },
  mantle = {
    version_header = true,
    betas_denied = REFUSED_BETAS,
    drop_fields = REFUSED_FIELDS,
    drop_output_format = true, drop_tool_strict = true, drop_server_tools = true,
    user_id = "hash",
  },
  -- models before 4.6 (no `adaptive`): adaptive thinking becomes this budget (kept below
  -- max_tokens; 0 drops thinking), output_config goes (Claude Code sends neither to them)
  older = { thinking_budget = 31999, drop_fields = { "output_config" } },
  -- count_tokens is served by InvokeModel's CountTokens and bedrock-mantle, not by runtime
  count_tokens_routes = { invoke = true, mantle = true },
}

local function copy(list, what)
  if list ~= nil and type(list) ~= "table" then error((what or "a list") .. " must be a list", 0) end
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  return out
end

local function append(list, more)
  for _, v in ipairs(more or {}) do list[#list + 1] = v end
  return list
end

-- The adaptation for one route and one model (its map entry, may be nil; adaptive: whether
-- the model takes adaptive thinking), as the flat table the provider applies.
function models.adaptation(route, entry, is_adaptive)
  local r = models.adapt[route] or {}
  local older = models.adapt.older or {}
  local a = {
    body_version = r.body_version, version_header = r.version_header or false,
    version_2026 = (entry == nil and is_adaptive) or (entry ~= nil and entry.version_2026) or false,
    drop_output_format = r.drop_output_format or false, drop_tool_strict = r.drop_tool_strict or false,
    drop_server_tools = r.drop_server_tools or false, hash_user_id = r.user_id == "hash",
    server_tool_betas = copy(REFUSED_BETAS),
  }
  if r.betas_allowed then
    a.betas_allowed = copy(r.betas_allowed)
    if is_adaptive then append(a.betas_allowed, r.adaptive_betas) end
  else
    a.betas_denied = copy(r.betas_denied)
  end
  a.drop_fields = copy(r.drop_fields)
  if not is_adaptive then
    append(a.drop_fields, older.drop_fields)
    a.thinking_budget = older.thinking_budget
  end
  if entry then
    if entry.betas then a.betas_allowed, a.betas_denied = copy(entry.betas, "betas"), nil end
    if entry.betas_add and a.betas_allowed then append(a.betas_allowed, copy(entry.betas_add, "betas_add")) end
    if entry.drop_fields then a.drop_fields = copy(entry.drop_fields, "drop_fields") end
    if entry.thinking_budget ~= nil and type(entry.thinking_budget) ~= "number" then
      error("thinking_budget must be a number", 0)
    end
    if entry.adaptive_thinking then a.thinking_budget = nil end
    if entry.thinking_budget then a.thinking_budget = entry.thinking_budget end
  end
  return a
end

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

-- The name a model is known by: Bedrock-form ids normalised, aliases resolved (to tell whether
-- two names are the same model: thinking signatures are bound to the model that wrote them).
function models.canonical(name)
  local n = models.for_anthropic(name)
  return models.aliases[n] or n
end

-- The map entry for an Anthropic name or alias, or nil.
function models.entry(name)
  return models.map[models.aliases[name] or name]
end

-- The id bedrock-mantle names a model by: no profile prefix, no version suffix
-- (anthropic.claude-opus-4-6-v1 -> anthropic.claude-opus-4-6).
local function mantle_id(base)
  return (base:gsub("%-v%d+:%d+$", ""):gsub("%-v%d+$", ""))
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

-- The ordered routes for a model: a list of { route = "invoke"|"runtime"|"mantle", id = ... },
-- the map entry (nil if none), and the Anthropic name the ids stand for. Known models use an
-- inference profile the model has (Sonnet 4 and later are not invocable on demand by base id);
-- an unknown claude-* name follows the naming rule (dated: -v1:0, undated: none) on the routes
-- of models.default_routes with the region's profile. A Bedrock-form id the client chose is
-- kept as it is where Bedrock takes it. `prefer`: a preferred profile prefix; `listed`: the
-- profiles the account has, when known.
function models.bedrock_routes(name, region, prefer, listed)
  name = clean(name)
  if prefer == "" then prefer = nil end
  local anthropic = models.to_anthropic(name)
  local entry, canonical, base, profile_id
  if anthropic then
    -- Bedrock form (profile id, base id or ARN): InvokeModel and runtime take it as written
    entry = models.entry(anthropic)
    canonical = models.aliases[anthropic] or anthropic
    base = name:match("^[%w-]+%.(anthropic%..+)$") or name:match("^(anthropic%..+)$")
    profile_id = name
  elseif name:match("^arn:aws") then
    return { { route = "invoke", id = name }, { route = "runtime", id = name } }, nil, name
  else
    entry = models.entry(name)
    canonical = models.aliases[name] or name
    if entry then
      base = entry.id
    elseif canonical:match("^claude%-") then
      -- not in the table: the account's listing names it, else the naming rule
      base = models.listed_id(listed, canonical) or
             ("anthropic." .. canonical .. (canonical:match("%-%d%d%d%d%d%d%d%d$") and "-v1:0" or ""))
    else
      return nil, "unknown model " .. name
    end
    profile_id = models.profile_for(entry or { id = base }, region, prefer, listed) .. "." .. base
  end
  local out = {}
  for _, route in ipairs((entry and entry.routes) or models.default_routes) do
    if route == "mantle" then
      if base then out[#out + 1] = { route = route, id = (entry and entry.mantle_id) or mantle_id(base) } end
    elseif route == "invoke" or route == "runtime" then
      out[#out + 1] = { route = route, id = profile_id }
    else
      error("models: unknown route \"" .. tostring(route) .. "\" (invoke, runtime or mantle)")
    end
  end
  -- the model the ids stand for (a map entry may name another model's id)
  local served = base and models.to_anthropic(base)
  return out, entry, served and (models.aliases[served] or served) or canonical
end

-- Whether a model takes adaptive thinking (4.6 and later; an unknown undated claude-* name is
-- taken to be a new one).
function models.is_adaptive(entry, canonical)
  if entry then return entry.adaptive or false end
  return canonical ~= nil and canonical:match("^claude%-") ~= nil and not canonical:match("%-%d%d%d%d%d%d%d%d$")
end

-- The first route's id, its route and the map entry (what the proxy tries first).
function models.to_bedrock(name, region, prefer, listed)
  local routes, entry = models.bedrock_routes(name, region, prefer, listed)
  if not routes then return nil, entry end
  if #routes == 0 then return nil, "no route for " .. name end
  return routes[1].id, routes[1].route, entry
end

-- Every Anthropic model the table knows (for GET /v1/models in OpenAI form).
function models.list()
  local out = {}
  for k in pairs(models.map) do out[#out + 1] = k end
  table.sort(out)
  return out
end

return models
