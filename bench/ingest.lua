-- wrk script for `python -m bench ingest`: every request is a pre-signed, unique delivery.
--
-- Usage: wrk -s ingest.lua URL -- BODIES_DIR MODE
--   BODIES_DIR holds one file per wrk thread, `<n>.tsv` for n = 1..threads, each line
--   `<signature>\t<body>`; threads use disjoint files, so no body is sent twice in a run.
--   MODE `once` (the receiver): when a thread runs out it stops and counts it, never resends.
--   MODE `cycle` (the stateless baseline): the thread starts over, at the same cost per request.
-- Requests are formatted in init(), so request() only hands out a prepared string.
-- done() prints one `voicehook-bench ...` line of key=value figures for the Python side.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

local prepared = {}
local count = 0
local position = 0
local cycle = false
sent = 0
exhausted = 0
local exhausted_request = nil

function init(args)
  local dir, mode = args[1], args[2]  -- args[0] is the URL
  cycle = mode == "cycle"
  local path = wrk.path
  for line in io.lines(dir .. "/" .. thread_id .. ".tsv") do
    local tab = line:find("\t", 1, true)
    count = count + 1
    prepared[count] = wrk.format("POST", path, {
      ["Content-Type"] = "application/json",
      ["X-Voiceproductionai-Signature"] = line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  -- Answered 404 by both servers, so running out shows as errors, never as duplicates.
  exhausted_request = wrk.format("GET", "/voicehook-bench/bodies-exhausted")
end

function request()
  if position >= count then
    if cycle and count > 0 then
      position = 0
    else
      exhausted = exhausted + 1
      wrk.thread:stop()
      return exhausted_request
    end
  end
  position = position + 1
  sent = sent + 1
  return prepared[position]
end

function done(summary, latency, requests)
  local total_sent, total_exhausted = 0, 0
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_exhausted = total_exhausted + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    "voicehook-bench requests=%d duration_us=%d bytes=%d sent=%d exhausted=%d"
      .. " connect_errors=%d read_errors=%d write_errors=%d status_errors=%d timeouts=%d"
      .. " latency_mean_us=%.1f latency_max_us=%d"
      .. " p50_us=%d p90_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, summary.duration, summary.bytes, total_sent, total_exhausted,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)
  ))
end
