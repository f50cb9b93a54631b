-- wrk script: every request reserves 1–2 seats of one tier (holds only).
local event = os.getenv("EVENT")
local tier = os.getenv("TIER")
-- Every request from a buyer of its own (an address as Google's front end
-- appends it): the per-client limits are per buyer, not per load generator.
local function client()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
end
request = function()
  return wrk.format("POST", "/api/v1/events/" .. event .. "/reserve/",
    { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https",
      ["X-Forwarded-For"] = client() },
    '{"tiers":[{"tier_id":"' .. tier .. '","quantity":' .. math.random(1, 2) .. '}]}')
end
