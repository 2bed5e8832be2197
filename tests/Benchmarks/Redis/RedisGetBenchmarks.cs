using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace OptimizedCache.Benchmarks.Redis;

/// <summary>
/// Allocation per GET of StackExchange.Redis (BenchmarkDotNet memory diagnoser). A 1 KiB value is a 1,048-byte
/// array (header included); what is allocated beyond that is the client's overhead.
/// </summary>
/// <remarks><c>dotnet run -c Release --project tests/Benchmarks -- --filter '*RedisGetBenchmarks*'</c></remarks>
[MemoryDiagnoser]
public class RedisGetBenchmarks
{
    private LocalRedisServer _server = null!;
    private ConnectionMultiplexer _multiplexer = null!;
    private IDatabase _client = null!;

    /// <summary>Starts redis-server and stores a 1 KiB value and a small one.</summary>
    [GlobalSetup]
    public void Setup()
    {
        // Synchronous on purpose: the in-process toolchain does not await an async setup.
        _server = LocalRedisServer.StartAsync().GetAwaiter().GetResult();
        _multiplexer = ConnectionMultiplexer.Connect(_server.ConnectionString);
        _client = _multiplexer.GetDatabase();
        _client.StringSet("bench:1k", new byte[1024]);
        _client.StringSet("bench:empty", Array.Empty<byte>());
    }

    /// <summary>Stops the client and the server.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _multiplexer.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>GET of a 1 KiB value.</summary>
    [Benchmark(Baseline = true)]
    public Task<RedisValue> Get1KiB() => _client.StringGetAsync("bench:1k");

    /// <summary>GET of an empty value: the client's own allocation, with (almost) no value to return.</summary>
    [Benchmark]
    public Task<RedisValue> GetEmpty() => _client.StringGetAsync("bench:empty");

    /// <summary>GET of a missing key (nil): the client's own allocation alone.</summary>
    [Benchmark]
    public Task<RedisValue> GetMissing() => _client.StringGetAsync("bench:missing");
}
