-- wrk script for bench/heartbeats.py: POST /heartbeat as the player does, each request for the next viewer's
-- session (a line "sessionid user_id audit_id ticket" of BENCH_BEATS), with the session cookie the ticket is for.
-- Any status outside 2xx counts as an error. done() prints one JSON line (as bench/cookies.lua does).
local beats = {}
for line in io.lines(os.getenv("BENCH_BEATS")) do
  local cookie, user, session, ticket = line:match("(%S+) (%S+) (%S+) (%S+)")
  beats[#beats + 1] = {
    headers = {
      ["Cookie"] = "sessionid=" .. cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    },
    body = "user=" .. user .. "&session=" .. session .. "&seconds=60&ticket=" .. ticket,
  }
end
local threads = {}
local n = 0
non2xx = 0

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  local beat = beats[(n % #beats) + 1]
  return wrk.format("POST", "/heartbeat", beat.headers, beat.body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
