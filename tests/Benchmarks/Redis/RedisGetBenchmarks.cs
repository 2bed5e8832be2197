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
    public async Task SetupAsync()
    {
        _server = await LocalRedisServer.StartAsync();
        _client = await RedisClient.ConnectAsync(_server.ConnectionString);
        await _client.SetAsync("bench:1k", new byte[1024]);
        await _client.SetAsync("bench:empty", ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>Stops the client and the server.</summary>
    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
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
