-- wrk script: a sign-up and sign-in storm. Each request is a new account or a
-- sign-in with a wrong password, from an address of its own, so every one
-- costs an argon2 hash (no throttle spares the server the work).
local n = 0
local function client()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
counts = {}
request = function()
  n = n + 1
  local email = string.format("storm-%d-%d@example.cl", math.random(1, 1e9), n)
  local path = (n % 2 == 0) and "/api/v1/auth/register/" or "/api/v1/auth/token/"
  return wrk.format("POST", path,
    { ["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https",
      ["X-Forwarded-For"] = client() },
    '{"email":"' .. email .. '","password":"Storm-Clave-' .. n .. '"}')
end
response = function(status)
  counts[status] = (counts[status] or 0) + 1
end
done = function()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, c in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + c end
  end
  local parts = {}
  for status, c in pairs(total) do table.insert(parts, status .. "=" .. c) end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
