-- wrk script: every request reserves 1–2 seats of one tier (holds only).
local event = os.getenv("EVENT")
local tier = os.getenv("TIER")
request = function()
  return wrk.format("POST", "/api/v1/events/" .. event .. "/reserve/",
    { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https" },
    '{"tiers":[{"tier_id":"' .. tier .. '","quantity":' .. math.random(1, 2) .. '}]}')
end
