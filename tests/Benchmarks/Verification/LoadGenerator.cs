using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>The request mix of <see cref="LoadGenerator"/>.</summary>
/// <param name="Products">Product ids drawn from (1..Products, Zipf-ranked: id 1 is the hottest).</param>
/// <param name="ZipfS">The Zipf exponent (1.0: the classic web-cache skew).</param>
/// <param name="WriteShare">Share of requests that update a product (PUT /api/products/{id}).</param>
/// <param name="OtherReadShare">Share of requests that read customers, their orders, recommendations or collections.</param>
/// <param name="Customers">Customer ids drawn from (Zipf).</param>
/// <param name="Collections">Collection ids drawn from (uniform).</param>
/// <param name="PageShare">Share of requests that list a page of 250 products (the largest values, ~37 KB each).</param>
internal sealed record LoadProfile(int Products = 20_000, double ZipfS = 1.0, double WriteShare = 0.02, double OtherReadShare = 0.2,
    int Customers = 5_000, int Collections = 200, double PageShare = 0)
{
    public JsonObject ToJson() => new()
    {
        ["products"] = Products, ["zipfS"] = ZipfS, ["writeShare"] = WriteShare, ["otherReadShare"] = OtherReadShare,
        ["customers"] = Customers, ["collections"] = Collections, ["pageShare"] = PageShare,
    };
}

/// <summary>What happened in one interval of load (or a sum of intervals).</summary>
internal sealed class LoadInterval
{
    public LatencyHistogram Latency { get; } = new();

    public long Requests { get; set; }

    /// <summary>Non-2xx answers, timeouts and connection errors.</summary>
    public long Failures { get; set; }

    /// <summary>Product reads of an id answered successfully before (its value was cached or could have been).</summary>
    public long SeenReadOk { get; set; }

    public long SeenReadFailed { get; set; }

    /// <summary>Product reads of an id never answered successfully in this run.</summary>
    public long UnseenReadOk { get; set; }

    public long UnseenReadFailed { get; set; }

    public long OtherReadOk { get; set; }

    public long OtherReadFailed { get; set; }

    public long WriteOk { get; set; }

    public long WriteFailed { get; set; }

    /// <summary>Answers by status code (bounded: at most the distinct codes HTTP has; 0 = no answer).</summary>
    public Dictionary<int, long> Status { get; } = [];

    public void Add(LoadInterval other)
    {
        Latency.Add(other.Latency);
        Requests += other.Requests;
        Failures += other.Failures;
        SeenReadOk += other.SeenReadOk;
        SeenReadFailed += other.SeenReadFailed;
        UnseenReadOk += other.UnseenReadOk;
        UnseenReadFailed += other.UnseenReadFailed;
        OtherReadOk += other.OtherReadOk;
        OtherReadFailed += other.OtherReadFailed;
        WriteOk += other.WriteOk;
        WriteFailed += other.WriteFailed;
        foreach (var (code, count) in other.Status)
        {
            Status[code] = Status.GetValueOrDefault(code) + count;
        }
    }

    public JsonObject ToJson(TimeSpan? duration = null)
    {
        var o = new JsonObject
        {
            ["requests"] = Requests,
            ["failures"] = Failures,
            ["p50Ms"] = Json.Num(Latency.PercentileMs(50)),
            ["p95Ms"] = Json.Num(Latency.PercentileMs(95)),
            ["p99Ms"] = Json.Num(Latency.PercentileMs(99)),
            ["maxMs"] = Json.Num(Latency.MaxMs),
            ["seenReadOk"] = SeenReadOk, ["seenReadFailed"] = SeenReadFailed,
            ["unseenReadOk"] = UnseenReadOk, ["unseenReadFailed"] = UnseenReadFailed,
            ["otherReadOk"] = OtherReadOk, ["otherReadFailed"] = OtherReadFailed,
            ["writeOk"] = WriteOk, ["writeFailed"] = WriteFailed,
            ["status"] = new JsonObject([.. Status.OrderBy(p => p.Key).Select(p => KeyValuePair.Create(p.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)p.Value))]),
        };
        if (duration is { } d)
        {
            o["seconds"] = Json.Num(d.TotalSeconds);
            o["requestsPerSecond"] = Json.Num(Requests / d.TotalSeconds, 1);
        }

        return o;
    }
}

/// <summary>
/// Closed-loop HTTP load for the drills and the soak: <c>concurrency</c> workers, each sending its next request when the
/// last one answered, spread round-robin over the Api replicas; product ids from a Zipf distribution, a share of other
/// reads and of product updates (<see cref="LoadProfile"/>). Counts are taken per interval (<see cref="TakeInterval"/>),
/// so a drill can see the second a failure happened. Memory is bounded: latency histograms and one bit per product id.
/// </summary>
internal sealed class LoadGenerator : IDisposable
{
    private readonly HttpClient[] _clients;
    private readonly LoadProfile _profile;
    private readonly int _concurrency;
    private readonly ZipfSampler _products;
    private readonly ZipfSampler _customers;
    private readonly BitArray _seen;
    private readonly object _seenLock = new();
    private readonly object _intervalLock = new();
    private LoadInterval _current = new();

    public LoadGenerator(IReadOnlyList<Uri> apis, int concurrency, LoadProfile profile, TimeSpan requestTimeout)
    {
        if (apis.Count == 0)
        {
            throw new ArgumentException("at least one Api URL is needed", nameof(apis));
        }

        if (concurrency is < 1 or > 2_000)
        {
            throw new ArgumentException($"concurrency must be 1 to 2000; got {concurrency}", nameof(concurrency));
        }

        if (profile.WriteShare is < 0 or > 1 || profile.OtherReadShare is < 0 or > 1 || profile.PageShare is < 0 or > 1
            || profile.WriteShare + profile.OtherReadShare + profile.PageShare > 1)
        {
            throw new ArgumentException($"write ({profile.WriteShare}), other-read ({profile.OtherReadShare}) and page ({profile.PageShare}) shares must be in [0, 1] and sum to at most 1", nameof(profile));
        }

        _clients = [.. apis.Select(a => ApiClient.CreateLoadClient(a, concurrency, requestTimeout))];
        _profile = profile;
        _concurrency = concurrency;
        _products = new ZipfSampler(profile.Products, profile.ZipfS);
        _customers = new ZipfSampler(profile.Customers, profile.ZipfS);
        _seen = new BitArray(profile.Products + 1);
    }

    /// <summary>Sends requests until <paramref name="cancellationToken"/> fires.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, _concurrency).Select(i => Task.Run(() => WorkerAsync(i, cancellationToken), CancellationToken.None)));

    /// <summary>Returns what happened since the last call and starts a new interval.</summary>
    public LoadInterval TakeInterval()
    {
        lock (_intervalLock)
        {
            var taken = _current;
            _current = new LoadInterval();
            return taken;
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private async Task WorkerAsync(int worker, CancellationToken cancellationToken)
    {
        var random = new Random(HashCode.Combine(worker, Environment.TickCount));
        var client = _clients[worker % _clients.Length];
        while (!cancellationToken.IsCancellationRequested)
        {
            var roll = random.NextDouble();
            var kind = roll < _profile.WriteShare ? Kind.Write
                : roll < _profile.WriteShare + _profile.OtherReadShare ? Kind.OtherRead
                : roll < _profile.WriteShare + _profile.OtherReadShare + _profile.PageShare ? Kind.Page
                : Kind.ProductRead;
            var productId = _products.Next(random);
            bool seen;
            lock (_seenLock)
            {
                seen = _seen[productId];
            }

            using var request = Build(kind, productId, random);
            var started = Stopwatch.GetTimestamp();
            int status;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                status = (int)response.StatusCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                status = 0;
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var ok = status is >= 200 and < 300;
            if (ok && kind == Kind.ProductRead && !seen)
            {
                lock (_seenLock)
                {
                    _seen[productId] = true;
                }
            }

            lock (_intervalLock)
            {
                var i = _current;
                i.Requests++;
                i.Latency.Record(elapsed);
                i.Status[status] = i.Status.GetValueOrDefault(status) + 1;
                if (!ok)
                {
                    i.Failures++;
                }

                switch (kind)
                {
                    case Kind.ProductRead when seen: if (ok) { i.SeenReadOk++; } else { i.SeenReadFailed++; } break;
                    case Kind.ProductRead: if (ok) { i.UnseenReadOk++; } else { i.UnseenReadFailed++; } break;
                    case Kind.OtherRead or Kind.Page: if (ok) { i.OtherReadOk++; } else { i.OtherReadFailed++; } break;
                    default: if (ok) { i.WriteOk++; } else { i.WriteFailed++; } break;
                }
            }
        }
    }

    private HttpRequestMessage Build(Kind kind, int productId, Random random)
    {
        switch (kind)
        {
            case Kind.Write:
                var price = (random.Next(100, 100_000) / 100m).ToString(CultureInfo.InvariantCulture);
                return new HttpRequestMessage(HttpMethod.Put, $"/api/products/{productId}")
                {
                    Content = new StringContent($$"""{"price":{{price}}}""", Encoding.UTF8, "application/json"),
                };
            case Kind.Page:
                var pages = Math.Max(1, (_profile.Products + 249) / 250);
                return new HttpRequestMessage(HttpMethod.Get, $"/api/products?page={random.Next(1, pages + 1)}&pageSize=250");
            case Kind.OtherRead:
                var customer = _customers.Next(random);
                var path = random.Next(4) switch
                {
                    0 => $"/api/customers/{customer}",
                    1 => $"/api/customers/{customer}/orders",
                    2 => $"/api/customers/{customer}/recommendations",
                    _ => $"/api/collections/{random.Next(1, _profile.Collections + 1)}",
                };
                return new HttpRequestMessage(HttpMethod.Get, path);
            default:
                return new HttpRequestMessage(HttpMethod.Get, $"/api/products/{productId}");
        }
    }

    private enum Kind
    {
        ProductRead,
        OtherRead,
        Page,
        Write,
    }
}
