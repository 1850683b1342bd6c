-- List prices of Claude models, USD per million tokens: what a request costs on a metered
-- provider (Bedrock, an Anthropic API key), and what a subscription (OAuth) request would have
-- cost at API prices -- shown as its value, never as spend.
-- Available to configs as `require "prices"`. A provider's `prices = { [model] = {...} }`
-- overrides entries for that provider only (a Bedrock region that prices differently, a
-- negotiated rate); a config may also replace this module with its own prices.lua.
--
-- Keys are model ids without date, version or region: "us.anthropic.claude-opus-5-5",
-- "claude-sonnet-4-5-20250929" and "anthropic.claude-haiku-4-5-20251001-v1:0" find
-- "claude-opus-5-5", "claude-sonnet-4-5" and "claude-haiku-4-5" (exactly: "claude-opus-4-6" does
-- not fall back to "claude-opus-4"). A model that is not listed is counted in tokens but not
-- priced (the log says so once).
--
-- Per entry: input, output; cache_write and cache_read default to Anthropic's rule, 1.25x and
-- 0.1x the input price (a 5-minute cache write; the 1-hour cache writes at 2x are not told
-- apart in the usage an answer reports). Long-context surcharges (above 200K input tokens) are
-- not applied.
--
-- Sources:
--  * the current generation: Anthropic's model pages as quoted on 2026-12-02 (Fable 5.2 $8/$40,
--    Opus 5.5 $4/$20, Sonnet 5.5 $2/$10, Haiku 5.5 from $0.10/$0.50);
--  * earlier models: https://www.anthropic.com/pricing and https://docs.anthropic.com/en/docs/
--    about-claude/pricing as published in 2025-11 (Opus 4.5 $5/$25; Opus 4.1, 4 and 3 $15/$75;
--    Sonnet 4.5, 4, 3.7 and 3.5 $3/$15; Haiku 4.5 $1/$5, 3.5 $0.80/$4, 3 $0.25/$1.25).
-- Models between those (Opus 4.6-4.8, Sonnet 4.6, the 5 and 5.1 generation) had no price in
-- those sources: add them here or per provider when you know them.
local prices = {
  source = "Anthropic list prices, checked 2026-12-02",
  models = {
    ["claude-fable-5-2"]  = { input = 8,    output = 40 },
    ["claude-opus-5-5"]   = { input = 4,    output = 20 },
    ["claude-sonnet-5-5"] = { input = 2,    output = 10 },
    ["claude-haiku-5-5"]  = { input = 0.10, output = 0.50 },
    ["claude-opus-4-5"]   = { input = 5,    output = 25 },
    ["claude-opus-4-1"]   = { input = 15,   output = 75 },
    ["claude-opus-4"]     = { input = 15,   output = 75 },
    ["claude-opus-4-0"]   = { input = 15,   output = 75 },
    ["claude-sonnet-4-5"] = { input = 3,    output = 15 },
    ["claude-sonnet-4"]   = { input = 3,    output = 15 },
    ["claude-sonnet-4-0"] = { input = 3,    output = 15 },
    ["claude-haiku-4-5"]  = { input = 1,    output = 5 },
    ["claude-3-7-sonnet"] = { input = 3,    output = 15 },
    ["claude-3-5-sonnet"] = { input = 3,    output = 15 },
    ["claude-3-5-haiku"]  = { input = 0.80, output = 4 },
    ["claude-3-opus"]     = { input = 15,   output = 75 },
    ["claude-3-haiku"]    = { input = 0.25, output = 1.25 },
  },
}
return prices
