using BenchmarkDotNet.Attributes;
using OptimizedCache.Cache.Core.Redis;

namespace OptimizedCache.Benchmarks.Redis;

/// <summary>
/// Allocation per GET on the client's hot path (BenchmarkDotNet memory diagnoser). A 1 KiB value is a 1,048-byte
/// array (header included); what is allocated beyond that is the client's overhead.
/// </summary>
/// <remarks><c>dotnet run -c Release --project tests/Benchmarks -- --filter '*RedisGetBenchmarks*'</c></remarks>
[MemoryDiagnoser]
public class RedisGetBenchmarks
{
    private LocalRedisServer _server = null!;
    private RedisClient _client = null!;

    /// <summary>Starts redis-server and stores a 1 KiB value and a small one.</summary>
    [GlobalSetup]
    public void Setup()
    {
        // Synchronous on purpose: the in-process toolchain does not await an async setup.
        _server = LocalRedisServer.StartAsync().GetAwaiter().GetResult();
        _client = RedisClient.ConnectAsync(_server.ConnectionString).GetAwaiter().GetResult();
        _client.SetAsync("bench:1k", new byte[1024]).GetAwaiter().GetResult();
        _client.SetAsync("bench:empty", ReadOnlyMemory<byte>.Empty).GetAwaiter().GetResult();
    }

    /// <summary>Stops the client and the server.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>GET of a 1 KiB value.</summary>
    [Benchmark(Baseline = true)]
    public Task<byte[]?> Get1KiB() => _client.GetAsync("bench:1k");

    /// <summary>GET of an empty value: the client's own allocation, with (almost) no value to return.</summary>
    [Benchmark]
    public Task<byte[]?> GetEmpty() => _client.GetAsync("bench:empty");

    /// <summary>GET of a missing key (nil): the client's own allocation alone.</summary>
    [Benchmark]
    public Task<byte[]?> GetMissing() => _client.GetAsync("bench:missing");
}
