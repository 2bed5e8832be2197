-- wrk script: GET /api/products/{id} with ids drawn from a Zipf distribution (s = ZIPF_S, default 1.0)
-- over PRODUCTS ids (default 20000), so a few products are hot and most are cold, as in a real store.
local products = tonumber(os.getenv("PRODUCTS") or "20000")
local s = tonumber(os.getenv("ZIPF_S") or "1.0")
local cdf = {}

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
  local total = 0
  for k = 1, products do total = total + 1 / (k ^ s) end
  local acc = 0
  for k = 1, products do
    acc = acc + (1 / (k ^ s)) / total
    cdf[k] = acc
  end
end

local function zipf()
  local u = math.random()
  local lo, hi = 1, products
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function request()
  return wrk.format("GET", "/api/products/" .. zipf())
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx_or_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, errors))
end
