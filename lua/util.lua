-- Helpers for claude-proxy configs: environment lookups and secrets from files or commands.
-- Available to any config as `require "util"`.
local util = {}

-- A number from the environment, or the default when unset or not a number.
function util.env_number(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if n == nil then
    error(string.format("%s=%q is not a number", name, v), 2)
  end
  return n
end

-- A string from the environment, or the default when unset or empty.
function util.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- What an open file or pipe holds (how: "l" its first line, "a" all of it), trimmed; nil when
-- nothing is left. Closes it.
local function read_trimmed(f, how)
  local s = trim(f:read(how) or "")
  f:close()
  if s == "" then return nil end
  return s
end

-- The first line of a file, trimmed; nil when the file does not exist.
-- The proxy refuses token files that other users can read (see the C side: proxy.file_mode).
function util.read_secret_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = read_trimmed(f, "l")
  if proxy and proxy.check_secret_file then proxy.check_secret_file(path) end
  return s
end

-- The trimmed output of a command (e.g. the macOS Keychain: security find-generic-password -w ...).
function util.command_output(cmd)
  local p = io.popen(cmd, "r")
  if not p then return nil end
  return read_trimmed(p, "a")
end

function util.home()
  return os.getenv("HOME") or "."
end

function util.config_dir()
  local xdg = os.getenv("XDG_CONFIG_HOME")
  if xdg and xdg ~= "" then return xdg .. "/claude-proxy" end
  return util.home() .. "/.config/claude-proxy"
end

-- The Anthropic OAuth token: CLAUDE_CODE_OAUTH_TOKEN, else the token file
-- (~/.config/claude-proxy/token, written by `make update-token`), else token_command.
function util.oauth_token(opts)
  opts = opts or {}
  local t = util.env("CLAUDE_CODE_OAUTH_TOKEN")
  if t then return t end
  t = util.read_secret_file(opts.token_file or (util.config_dir() .. "/token"))
  if t then return t end
  if opts.token_command then return util.command_output(opts.token_command) end
  return nil
end

return util
