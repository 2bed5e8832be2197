using System.Diagnostics;
using System.Globalization;

namespace OptimizedCache.Testing;

/// <summary>
/// A primary, a replica and one Sentinel (Debian's <c>redis-sentinel</c>) on loopback, monitoring the primary as
/// <see cref="ServiceName"/>. <see cref="FailoverAsync"/> switches the primary. Dispose kills all three.
/// </summary>
public sealed class RedisSentinelSet : IAsyncDisposable
{
    /// <summary>The name Sentinel knows the primary by.</summary>
    public const string ServiceName = "ocprimary";

    private readonly List<Process> _processes = [];
    private readonly BoundedLog _log = new();
    private readonly string _cli = ServerProcess.Locate("redis-cli", "redis-tools");

    private RedisSentinelSet()
    {
        Directory = Path.Combine(Path.GetTempPath(), "oc-sentinel-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        PrimaryPort = ServerProcess.FreePort();
        ReplicaPort = ServerProcess.FreePort();
        SentinelPort = ServerProcess.FreePort();
    }

    /// <summary>The folder of the three processes.</summary>
    public string Directory { get; }

    /// <summary>The port of the node that started as the primary.</summary>
    public int PrimaryPort { get; }

    /// <summary>The port of the node that started as the replica.</summary>
    public int ReplicaPort { get; }

    /// <summary>The Sentinel's port.</summary>
    public int SentinelPort { get; }

    /// <summary>A StackExchange.Redis connection string through the Sentinel.</summary>
    public string ConnectionString => $"127.0.0.1:{SentinelPort.ToString(CultureInfo.InvariantCulture)},serviceName={ServiceName}";

    /// <summary>Starts the three and waits until the replica is in sync and the Sentinel sees it.</summary>
    public static async Task<RedisSentinelSet> StartAsync()
    {
        var set = new RedisSentinelSet();
        try
        {
            var server = ServerProcess.Locate("redis-server", "redis-server");
            await set.StartAsync(server, set.PrimaryPort, []);
            await set.StartAsync(server, set.ReplicaPort, ["--replicaof", "127.0.0.1", set.PrimaryPort.ToString(CultureInfo.InvariantCulture)]);
            var config = Path.Combine(set.Directory, "sentinel.conf");
            await File.WriteAllTextAsync(config, string.Join('\n',
                $"port {set.SentinelPort}",
                "bind 127.0.0.1",
                $"dir {set.Directory}",
                $"sentinel monitor {ServiceName} 127.0.0.1 {set.PrimaryPort} 1",
                $"sentinel down-after-milliseconds {ServiceName} 1000",
                $"sentinel failover-timeout {ServiceName} 5000",
                "") + "\n");
            var sentinel = ServerProcess.Start(ServerProcess.Locate("redis-sentinel", "redis-sentinel"), [config], set._log, set.Directory);
            set._processes.Add(sentinel);
            await ServerProcess.WaitForPortAsync(set.SentinelPort, sentinel, set._log, TimeSpan.FromSeconds(15));
            await set.WaitAsync(async () =>
                (await set.CliAsync(set.ReplicaPort, "info", "replication")).Contains("master_link_status:up", StringComparison.Ordinal)
                && (await set.CliAsync(set.SentinelPort, "sentinel", "replicas", ServiceName)).Contains(set.ReplicaPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
                "the replica in sync and known to the Sentinel");
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The port of the current primary, as the Sentinel reports it.</summary>
    public async Task<int> CurrentPrimaryPortAsync()
    {
        var lines = (await CliAsync(SentinelPort, "sentinel", "get-master-addr-by-name", ServiceName)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(lines[1].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary><c>SENTINEL FAILOVER</c>, then waits until the Sentinel names the other node as primary and it accepts writes.</summary>
    public async Task FailoverAsync()
    {
        var before = await CurrentPrimaryPortAsync();
        var reply = await CliAsync(SentinelPort, "sentinel", "failover", ServiceName);
        if (!reply.Contains("OK", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"SENTINEL FAILOVER answered: {reply}");
        }

        await WaitAsync(async () =>
        {
            var now = await CurrentPrimaryPortAsync();
            return now != before && (await CliAsync(now, "info", "replication")).Contains("role:master", StringComparison.Ordinal);
        }, "the switch to the other node");
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            ServerProcess.Kill(process);
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: the temp folder is reclaimed by the OS otherwise
        }

        return ValueTask.CompletedTask;
    }

    private async Task StartAsync(string server, int port, string[] extra)
    {
        var folder = Path.Combine(Directory, port.ToString(CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(folder);
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", folder, "--repl-diskless-sync-delay", "0", "--loglevel", "warning", .. extra,
        ];
        var process = ServerProcess.Start(server, arguments, _log, folder);
        _processes.Add(process);
        await ServerProcess.WaitForPortAsync(port, process, _log, TimeSpan.FromSeconds(15));
    }

    private async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"{what} did not happen within 30 s:\n{_log}");
            }

            await Task.Delay(100);
        }
    }

    private async Task<string> CliAsync(int port, params string[] arguments)
    {
        var psi = new ProcessStartInfo(_cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
