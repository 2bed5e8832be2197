using System.Diagnostics;
using System.Globalization;

namespace OptimizedCache.Testing;

/// <summary>
/// A real Redis Cluster on loopback: <c>redis-server --cluster-enabled yes</c> per node (no persistence), joined by
/// <c>redis-cli --cluster create</c>, with replicas in sync before it is handed out. Nodes can be killed (a crash)
/// and started again on their port. Dispose kills every node and removes the folder.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly string _server = ServerProcess.Locate("redis-server", "redis-server");
    private readonly string _cli = ServerProcess.Locate("redis-cli", "redis-tools");
    private readonly Dictionary<int, Process?> _processes = [];
    private readonly BoundedLog _log = new();

    private RedisCluster(int[] ports)
    {
        Ports = ports;
        Directory = Path.Combine(Path.GetTempPath(), "oc-cluster-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>Every node's port, primaries first as created.</summary>
    public int[] Ports { get; }

    /// <summary>The nodes' folder.</summary>
    public string Directory { get; }

    /// <summary>Every node, as a StackExchange.Redis connection string (the client finds the topology from any).</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Starts <paramref name="primaries"/> primaries with <paramref name="replicasPerPrimary"/> replicas each and waits until the cluster is ok and every replica in sync.</summary>
    public static async Task<RedisCluster> StartAsync(int primaries = 3, int replicasPerPrimary = 0)
    {
        var cluster = new RedisCluster([.. Enumerable.Range(0, primaries * (1 + replicasPerPrimary)).Select(_ => ServerProcess.FreeClusterPort())]);
        try
        {
            foreach (var port in cluster.Ports)
            {
                await cluster.StartNodeAsync(port);
            }

            string[] create = ["--cluster", "create", .. cluster.Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", replicasPerPrimary.ToString(CultureInfo.InvariantCulture), "--cluster-yes"];
            var (code, output) = await cluster.CliAsync(create);
            if (code != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed:\n{output}");
            }

            await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills a node (SIGKILL), as a crash would.</summary>
    public void Kill(int port)
    {
        ServerProcess.Kill(_processes.GetValueOrDefault(port));
        _processes[port] = null;
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) every running node: the cluster stops answering, data kept.</summary>
    public async Task SignalAllAsync(string signal)
    {
        foreach (var process in _processes.Values)
        {
            if (process is { HasExited: false })
            {
                await ServerProcess.SignalAsync(process.Id, signal);
            }
        }
    }

    /// <summary>Starts a killed node again on its port, with its cluster config (it rejoins as it was, or as a replica).</summary>
    public Task RestartAsync(int port) => StartNodeAsync(port);

    /// <summary>The ports of the nodes that are primaries now, as the first reachable node sees them.</summary>
    public async Task<int[]> PrimaryPortsAsync()
    {
        foreach (var port in Ports.Where(p => _processes.GetValueOrDefault(p) is { HasExited: false }))
        {
            var (code, output) = await CliAsync(["-p", port.ToString(CultureInfo.InvariantCulture), "cluster", "nodes"]);
            if (code != 0)
            {
                continue;
            }

            return [.. output.Split('\n')
                .Select(l => l.Split(' '))
                .Where(f => f.Length > 2 && f[2].Contains("master", StringComparison.Ordinal) && !f[2].Contains("fail", StringComparison.Ordinal))
                .Select(f => int.Parse(f[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture))];
        }

        return [];
    }

    /// <summary>Waits until every running node says <c>cluster_state:ok</c> and every running replica's link to its primary is up.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < timeout)
        {
            var healthy = true;
            foreach (var port in Ports.Where(p => _processes.GetValueOrDefault(p) is { HasExited: false }))
            {
                var p = port.ToString(CultureInfo.InvariantCulture);
                var (_, info) = await CliAsync(["-p", p, "cluster", "info"]);
                var (_, replication) = await CliAsync(["-p", p, "info", "replication"]);
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal)
                    || (replication.Contains("role:slave", StringComparison.Ordinal) && !replication.Contains("master_link_status:up", StringComparison.Ordinal)))
                {
                    healthy = false;
                    last = $"node {p}:\n{info}\n{replication}";
                    break;
                }
            }

            if (healthy)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The cluster was not healthy within {timeout}:\n{last}\n{_log}");
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        foreach (var port in Ports)
        {
            Kill(port);
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

    private async Task StartNodeAsync(int port)
    {
        var folder = Path.Combine(Directory, port.ToString(CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(folder);
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", folder, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            // replicas sync at once instead of after the default 5 s, so a failover drill can start sooner
            "--repl-diskless-sync-delay", "0", "--loglevel", "warning", "--enable-debug-command", "yes",
        ];
        var process = ServerProcess.Start(_server, arguments, _log, folder);
        _processes[port] = process;
        await ServerProcess.WaitForPortAsync(port, process, _log, TimeSpan.FromSeconds(15));
    }

    private async Task<(int Code, string Output)> CliAsync(string[] arguments)
    {
        var psi = new ProcessStartInfo(_cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
