-- wrk script: each connection alternates reserve (1-2 seats of one tier) and
-- book (the reservation it just got). Env: EVENT, TIER.
local event = os.getenv("EVENT")
local tier = os.getenv("TIER")
-- Every request from a buyer of its own (an address as Google's front end
-- appends it): the per-client limits are per buyer, not per load generator.
local function client()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
end
local pending = {}
local counts = { reserved = 0, booked = 0, conflict = 0, other = 0 }

request = function()
  local id = table.remove(pending)
  if id then
    return wrk.format("POST", "/api/v1/events/" .. event .. "/book/",
      { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https" },
      '{"reservation_id":"' .. id .. '","customer":{"name":"Bench","email":"bench-' .. math.random(1, 1e9) .. '@example.cl"}}')
  end
  local q = math.random(1, 2)
  return wrk.format("POST", "/api/v1/events/" .. event .. "/reserve/",
    { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https",
      ["X-Forwarded-For"] = client() },
    '{"tiers":[{"tier_id":"' .. tier .. '","quantity":' .. q .. '}]}')
end

response = function(status, headers, body)
  if status == 201 then
    local id = body:match('"reservation_id":"([%x%-]+)"')
    if id and not body:find('"order_number"') then
      table.insert(pending, id)
      counts.reserved = counts.reserved + 1
    else
      counts.booked = counts.booked + 1
    end
  elseif status == 409 then
    counts.conflict = counts.conflict + 1
  else
    counts.other = counts.other + 1
  end
end
