-- wrk script for the Agora Cloud benchmark (bench/run.sh).
--
--   WRK_OUT=FILE WRK_TOKEN=T wrk ... -s bench/wrk.lua URL -- [auth=1] [body=F1,F2,...] [cap=N]
--                                                          [type=MEDIA] [unique=HEX] [paths=FILE]
--
-- Without body: GET URL's path (with its query), or with paths, each path
-- (one a line, with its query) of FILE in turn. With body: POST each file
-- in turn as application/json, or as type (round robin per connection thread).
-- auth=1: sends "Authorization: Bearer $WRK_TOKEN". cap: each thread stops after N
-- responses (wrk -d is then only the upper bound; see run.sh).
-- unique: every occurrence in a body of these bytes (given in hex; found as
-- raw bytes, else as lower-case hex text) is replaced in each request by
-- 8 bytes of its own (the time the run started, the thread and a count),
-- in the same form: bench/otlp.sh's trace ids, so no request is a resend.
-- At the end, one JSON line with the totals is written to $WRK_OUT (or stdout):
-- requests, duration, errors by kind, latency percentiles in ms.

local reqs = {}
local n = 0
local cap = 0
local got = 0
local headers = {}
local bodies = {} -- with unique: each body cut at the marker, and whether it was hex text
local threads = 0
local start = os.time()

function setup(thread)
   threads = threads + 1
   thread:set("thread_no", threads)
end

local function from_hex(h)
   return (h:gsub("%x%x", function(b) return string.char(tonumber(b, 16)) end))
end

-- text cut at each plain occurrence of marker.
local function cut(text, marker)
   local parts, at = {}, 1
   while true do
      local i, j = text:find(marker, at, true)
      if not i then break end
      table.insert(parts, text:sub(at, i - 1))
      at = j + 1
   end
   table.insert(parts, text:sub(at))
   return parts
end

local function parse_args(args)
   local opts = {}
   for _, a in ipairs(args) do
      local k, v = a:match("^(%w+)=(.*)$")
      if k then opts[k] = v end
   end
   return opts
end

function init(args)
   local opts = parse_args(args)
   -- The token comes from the environment, not the command line, where
   -- any local user could read it (ps).
   local token = os.getenv("WRK_TOKEN")
   if opts.auth == "1" then
      assert(token and token ~= "", "auth=1 needs WRK_TOKEN in the environment")
      headers["Authorization"] = "Bearer " .. token
   end
   cap = tonumber(opts.cap or "0") or 0
   if cap == 0 then
      -- wrk hands each response to Lua only when this function exists
      response = nil
   end
   if opts.body and opts.body ~= "" then
      headers["Content-Type"] = opts.type or "application/json"
      for f in opts.body:gmatch("[^,]+") do
         local h = assert(io.open(f, "rb"))
         local text = h:read("*a")
         h:close()
         if opts.unique then
            local parts = cut(text, from_hex(opts.unique))
            local hex = #parts == 1
            if hex then parts = cut(text, opts.unique:lower()) end
            assert(#parts > 1, f .. ": the unique bytes are not in it")
            table.insert(bodies, {parts = parts, hex = hex})
         else
            table.insert(reqs, wrk.format("POST", nil, headers, text))
         end
      end
   elseif opts.paths and opts.paths ~= "" then
      for path in assert(io.open(opts.paths, "r")):lines() do
         if path ~= "" then table.insert(reqs, wrk.format("GET", path, headers, nil)) end
      end
      assert(#reqs > 0, opts.paths .. ": no paths")
   else
      table.insert(reqs, wrk.format("GET", nil, headers, nil))
   end
end

function request()
   n = n + 1
   if #bodies > 0 then
      local b = bodies[(n - 1) % #bodies + 1]
      local id = string.format("%08x%02x%06x", start % 0x100000000, (thread_no or 0) % 0x100, n % 0x1000000)
      return wrk.format("POST", nil, headers, table.concat(b.parts, b.hex and id or from_hex(id)))
   end
   return reqs[(n - 1) % #reqs + 1]
end

function response(status, headers, body)
   got = got + 1
   if cap > 0 and got >= cap then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local out = io.stdout
   -- done() runs in wrk's main script, which init() never saw: the
   -- output file comes from the environment
   local path = os.getenv("WRK_OUT")
   if path and path ~= "" then
      out = assert(io.open(path, "w"))
   end
   local e = summary.errors
   out:write(string.format(
      '{"requests":%d,"duration_s":%.3f,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
      '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_ms":%.3f,"p90_ms":%.3f,' ..
      '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f}\n',
      summary.requests, summary.duration / 1e6, summary.bytes, e.connect, e.read, e.write,
      e.status, e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
   if out ~= io.stdout then out:close() end
end
