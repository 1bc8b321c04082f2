-- 1,000 sessions in rotation, as a conversational client population would send them.
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/chat/completions", { ["sluice-session"] = "session-" .. (n % 1000) })
end
