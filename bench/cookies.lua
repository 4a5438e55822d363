-- wrk script for bench/run.py: GET one path, each request with the next viewer's session cookie.
--   BENCH_PATH=/channels/bench-event/ BENCH_COOKIES=var/bench/x.cookies wrk -s bench/cookies.lua ...
-- For bench/heartbeats.py, with BENCH_BEATS instead: POST /heartbeat as the player does, each request for the next
-- viewer's session (a line "sessionid user_id audit_id ticket"), with the session cookie the ticket is for.
-- Any status outside 2xx counts as an error (wrk itself only counts >= 400). done() prints one JSON line.
local path = os.getenv("BENCH_PATH")
local beats_file = os.getenv("BENCH_BEATS")
local cookies = {}
local beats = {}
if beats_file then
  for line in io.lines(beats_file) do
    local cookie, user, session, ticket = line:match("(%S+) (%S+) (%S+) (%S+)")
    beats[#beats + 1] = {
      headers = { ["Cookie"] = "sessionid=" .. cookie, ["Content-Type"] = "application/x-www-form-urlencoded" },
      body = "user=" .. user .. "&session=" .. session .. "&seconds=60&ticket=" .. ticket,
    }
  end
else
  for line in io.lines(os.getenv("BENCH_COOKIES")) do
    cookies[#cookies + 1] = "sessionid=" .. line
  end
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
  if beats_file then
    local beat = beats[(n % #beats) + 1]
    return wrk.format("POST", "/heartbeat", beat.headers, beat.body)
  end
  return wrk.format("GET", path, { ["Cookie"] = cookies[(n % #cookies) + 1] })
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
