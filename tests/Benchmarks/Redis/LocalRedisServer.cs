using System.Diagnostics;
using System.Globalization;
using OptimizedCache.Testing;

namespace OptimizedCache.Benchmarks.Redis;

/// <summary>A redis-server on a free loopback port with no persistence, for measurements; killed on dispose.</summary>
internal sealed class LocalRedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private LocalRedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<LocalRedisServer> StartAsync()
    {
        var executable = ServerProcess.Locate("redis-server", "redis-server");
        var port = ServerProcess.FreePort();
        var log = new BoundedLog();
        var process = ServerProcess.Start(
            executable,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            log);
        await ServerProcess.WaitForPortAsync(port, process, log, TimeSpan.FromSeconds(15));
        return new LocalRedisServer(process, port);
    }

    public ValueTask DisposeAsync()
    {
        ServerProcess.Kill(_process);
        return ValueTask.CompletedTask;
    }
}
