using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>What the traffic generator sends.</summary>
public enum TrafficMode
{
    /// <summary>
    /// Reads of a small hot set of products (the cache hits nearly every time once warm), and one request in ten a
    /// write (an inventory adjustment, away from the hot set), which gives the bypass path traffic at phase 2.
    /// </summary>
    Healthy,

    /// <summary>
    /// Reads of products never asked for before (each a cache miss: the hit ratio falls towards zero), with the
    /// same share of writes.
    /// </summary>
    UniqueKeys,
}

/// <summary>
/// Steady background traffic against the Api replicas: a fixed number of workers, each sending at most one
/// request per period (a slow answer lowers the rate, it never causes a burst), alternating replicas. The loops
/// are bounded: they stop on dispose or when the lifetime runs out, whichever comes first. Every outcome is
/// counted (mode, X-Cache and status class, or the exception's type) for failure messages.
/// </summary>
public sealed class TrafficGenerator : IAsyncDisposable
{
    /// <summary>Products the healthy mode reads: few enough that both replicas' L1 holds them all.</summary>
    public const int HotProducts = 40;

    private const int FirstUniqueProduct = 1_000;
    private const int LastUniqueProduct = 15_000;
    private const int FirstWrittenProduct = 15_001;
    private const int LastWrittenProduct = 20_000;
    private const int MaxOutcomeKinds = 64;

    private readonly IReadOnlyList<Uri> _replicas;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop;
    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly Task[] _workers;
    private long _uniqueProduct = FirstUniqueProduct - 1;
    private int _mode = (int)TrafficMode.Healthy;

    private TrafficGenerator(IReadOnlyList<Uri> replicas, int workers, TimeSpan period, TimeSpan lifetime)
    {
        _replicas = replicas;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _stop = new CancellationTokenSource(lifetime);
        _workers = [.. Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkAsync(w, period, _stop.Token)))];
    }

    /// <summary>What is being sent now; a change applies from each worker's next request.</summary>
    public TrafficMode Mode
    {
        get => (TrafficMode)Volatile.Read(ref _mode);
        set => Volatile.Write(ref _mode, (int)value);
    }

    /// <summary>Starts <paramref name="workers"/> workers sending one request per <paramref name="period"/> each, for at most <paramref name="lifetime"/>.</summary>
    public static TrafficGenerator Start(IReadOnlyList<Uri> replicas, int workers, TimeSpan period, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfZero(replicas.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        return new TrafficGenerator(replicas, workers, period, lifetime);
    }

    /// <summary>How many requests of <paramref name="mode"/> got an answer.</summary>
    public long Answered(TrafficMode mode) =>
        _outcomes.Where(o => o.Key.StartsWith(mode + " ", StringComparison.Ordinal) && !o.Key.Contains("exception", StringComparison.Ordinal)).Sum(o => o.Value);

    /// <summary>The counted outcomes, one per line.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var (outcome, count) in _outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {outcome}: {count}\n");
        }

        return text.Length == 0 ? "  (no requests)\n" : text.ToString();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _http.Dispose();
    }

    private async Task WorkAsync(int worker, TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        var random = new Random(worker);
        var sent = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var replica = _replicas[(int)((worker + sent++) % _replicas.Count)];
                var mode = Mode;
                await SendAsync(replica, mode, random, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped or out of lifetime.
        }
    }

    private async Task SendAsync(Uri replica, TrafficMode mode, Random random, CancellationToken cancellationToken)
    {
        try
        {
            using var response = random.Next(10) == 0
                ? await _http.PostAsJsonAsync(
                    new Uri(replica, $"/api/inventory/{random.Next(FirstWrittenProduct, LastWrittenProduct + 1)}/adjust"),
                    new { delta = 1 },
                    cancellationToken)
                : await _http.GetAsync(new Uri(replica, $"/api/products/{NextProduct(mode, random)}"), cancellationToken);
            var cache = response.Headers.TryGetValues("X-Cache", out var values) ? values.FirstOrDefault() : "none";
            Count($"{mode} {cache} {(int)response.StatusCode / 100}xx");
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Count($"{mode} exception {e.GetType().Name}");
        }
    }

    private long NextProduct(TrafficMode mode, Random random)
    {
        if (mode == TrafficMode.Healthy)
        {
            return random.Next(1, HotProducts + 1);
        }

        // A product no request has asked for in this run (the range outlasts any test's flood), so a miss on every replica.
        var n = Interlocked.Increment(ref _uniqueProduct);
        return FirstUniqueProduct + ((n - FirstUniqueProduct) % (LastUniqueProduct - FirstUniqueProduct + 1));
    }

    private void Count(string outcome)
    {
        if (_outcomes.Count < MaxOutcomeKinds || _outcomes.ContainsKey(outcome))
        {
            _outcomes.AddOrUpdate(outcome, 1, static (_, n) => n + 1);
        }
    }
}
