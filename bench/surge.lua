-- wrk script for bench/surge.sh: every request is a buyer of its own (an
-- address as Google's front end appends it) reserving 1–2 seats of one tier.
-- Counts answers by status; prints them and the latency percentiles as one
-- JSON line at the end (the script reads it).
local event = os.getenv("EVENT")
local tier = os.getenv("TIER")
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function()
  held, sold_out, other = 0, 0, 0
end

local function client()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
end

request = function()
  return wrk.format("POST", "/api/v1/events/" .. event .. "/reserve/",
    { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https",
      ["X-Forwarded-For"] = client() },
    '{"tiers":[{"tier_id":"' .. tier .. '","quantity":' .. math.random(1, 2) .. '}]}')
end

response = function(status)
  if status == 201 or status == 200 then
    held = held + 1
  elseif status == 409 then
    sold_out = sold_out + 1
  else
    other = other + 1
  end
end

done = function(summary, latency)
  local h, s, o = 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("held")
    s = s + t:get("sold_out")
    o = o + t:get("other")
  end
  io.write(string.format(
    '{"held":%d,"sold_out":%d,"other":%d,"errors":%d,"requests":%d,"micros":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    h, s, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
