-- wrk script for the stepped load (verification/stepped-load.sh): a store's traffic in miniature.
--   product reads      GET /api/products/{id}, id drawn from Zipf(s) over PRODUCTS ids (id 1 the hottest)
--   other reads        OTHER_SHARE of requests: a customer, their orders, their recommendations, a collection
--   writes             WRITE_SHARE of requests: PUT /api/products/{id} with a new price (Zipf id, so hot items change)
-- Environment: PRODUCTS (20000), CUSTOMERS (5000), COLLECTIONS (200), ZIPF_S (1.0), WRITE_SHARE (0.02), OTHER_SHARE (0.2).
-- Extends Api/load/zipf.lua (product reads only) with the other reads and the writes.
-- done() prints one line "RESULT_JSON {...}" with requests, duration, errors and latency percentiles in microseconds.
local products = tonumber(os.getenv("PRODUCTS") or "20000")
local customers = tonumber(os.getenv("CUSTOMERS") or "5000")
local collections = tonumber(os.getenv("COLLECTIONS") or "200")
local s = tonumber(os.getenv("ZIPF_S") or "1.0")
local write_share = tonumber(os.getenv("WRITE_SHARE") or "0.02")
local other_share = tonumber(os.getenv("OTHER_SHARE") or "0.2")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local function build_cdf(n)
  local cdf, total, acc = {}, 0, 0
  for k = 1, n do total = total + 1 / (k ^ s) end
  for k = 1, n do
    acc = acc + (1 / (k ^ s)) / total
    cdf[k] = acc
  end
  return cdf
end

local product_cdf, customer_cdf

local function draw(cdf, n)
  local u = math.random()
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  product_cdf = build_cdf(products)
  customer_cdf = build_cdf(customers)
end

local json_headers = { ["Content-Type"] = "application/json" }

function request()
  local r = math.random()
  if r < write_share then
    local price = string.format("%.2f", 1 + math.random() * 999)
    return wrk.format("PUT", "/api/products/" .. draw(product_cdf, products), json_headers, '{"price":' .. price .. '}')
  elseif r < write_share + other_share then
    local c = draw(customer_cdf, customers)
    local pick = math.random(4)
    if pick == 1 then return wrk.format("GET", "/api/customers/" .. c)
    elseif pick == 2 then return wrk.format("GET", "/api/customers/" .. c .. "/orders")
    elseif pick == 3 then return wrk.format("GET", "/api/customers/" .. c .. "/recommendations")
    else return wrk.format("GET", "/api/collections/" .. math.random(collections)) end
  end
  return wrk.format("GET", "/api/products/" .. draw(product_cdf, products))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p75":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max))
end
