using System.Diagnostics;
using System.Globalization;
using System.Text;
using OptimizedCache.Benchmarks.Verification;
using StackExchange.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Benchmarks.Redis;

/// <summary>
/// Measures StackExchange.Redis (the client the cache uses) beside <c>redis-benchmark</c> in one run on one server:
/// 1 KiB GET throughput with 64 concurrent callers on one multiplexer against <c>-c 50 -P 16</c>, and the p50 latency
/// and bytes allocated per GET of one sequential caller against <c>-c 1</c>. No target: it records what the cache's
/// L2 stands on.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project tests/Benchmarks -- redis-client [--seconds 10] [--rounds 3] [--server host:port]</c>.
/// Without <c>--server</c> it starts a redis-server on a free loopback port. Each round runs redis-benchmark and the
/// client back to back (so both see the same machine load), and the table gives the median of the rounds. On Linux
/// it also reports the client's CPU time and context switches per sequential GET, which say where a latency gap
/// comes from (thread hops) better than wall-clock time on a busy machine.
/// </remarks>
public sealed class RedisClientTool : IMeasuringTool
{
    private const string Key = "key:__rand_int__";
    private const int ValueSize = 1024;
    private const int Callers = 64;

    /// <inheritdoc />
    public string Name => "redis-client";

    /// <inheritdoc />
    public string Description => "1 KiB GET throughput and p50 latency of StackExchange.Redis vs redis-benchmark, alternating rounds";

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        var seconds = 10;
        var rounds = 3;
        string? endpoint = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length:
                    seconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--rounds" when i + 1 < args.Length:
                    rounds = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--server" when i + 1 < args.Length:
                    endpoint = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: redis-client [--seconds N] [--rounds N] [--server host:port]");
                    return 2;
            }
        }

        LocalRedisServer? server = null;
        if (endpoint is null)
        {
            server = await LocalRedisServer.StartAsync();
            endpoint = $"127.0.0.1:{server.Port}";
        }

        try
        {
            var (host, port) = (endpoint[..endpoint.LastIndexOf(':')], endpoint[(endpoint.LastIndexOf(':') + 1)..]);
            await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
            var client = new Client(multiplexer.GetDatabase(), multiplexer.GetServer(multiplexer.GetEndPoints()[0]));
            var value = new byte[ValueSize];
            Random.Shared.NextBytes(value);
            await client.Database.StringSetAsync(Key, value);

            Console.WriteLine($"redis-client benchmark: {seconds} s per phase, {rounds} rounds against {endpoint}");
            var duration = TimeSpan.FromSeconds(seconds);
            var fifty = RunRedisBenchmark(host, port, "-c 50", requests: 90_000L * seconds);
            var pipelined = new List<double>();
            var ours = new List<double>();
            var single = new List<(double Rps, double P50Ms)>();
            var sequential = new List<SequentialResult>();
            for (var round = 1; round <= rounds; round++)
            {
                Console.WriteLine($"round {round}:");
                pipelined.Add(RunRedisBenchmark(host, port, "-c 50 -P 16", requests: 300_000L * seconds).Rps);
                ours.Add(await MeasureThroughputAsync(client, duration));
                single.Add(RunRedisBenchmark(host, port, "-c 1", requests: 30_000L * seconds));
                sequential.Add(await MeasureSequentialAsync(client, duration));
            }

            var throughputRatio = Statistics.Median(pipelined.Zip(ours, (theirs, mine) => mine / theirs));
            var latencyRatio = Statistics.Median(single.Zip(sequential, (theirs, mine) => mine.P50Ms / theirs.P50Ms));
            var rateRatio = Statistics.Median(single.Zip(sequential, (theirs, mine) => mine.Rps / theirs.Rps));

            var table = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            table.AppendLine(inv, $"Medians of {rounds} rounds (each ratio is taken within its round, then the median of the ratios).");
            table.AppendLine();
            table.AppendLine("| what | redis-benchmark | StackExchange.Redis | ratio |");
            table.AppendLine("| --- | --- | --- | --- |");
            table.AppendLine(inv, $"| GET 1 KiB, 64 async callers on 1 multiplexer vs `-c 50 -P 16` (ops/s) | {Statistics.Median(pipelined):N0} | {Statistics.Median(ours):N0} | {throughputRatio:P0} |");
            table.AppendLine(inv, $"| GET 1 KiB, `-c 50` without pipelining, for reference (ops/s) | {fifty.Rps:N0} | | |");
            table.AppendLine(inv, $"| GET 1 KiB, one sequential caller vs `-c 1`: p50 (ms) | {Statistics.Median(single.Select(s => s.P50Ms)):0.000} | {Statistics.Median(sequential.Select(s => s.P50Ms)):0.000} | {latencyRatio:0.00}x |");
            table.AppendLine(inv, $"| GET 1 KiB, one sequential caller vs `-c 1`: p99 (ms) | | {Statistics.Median(sequential.Select(s => s.P99Ms)):0.000} | |");
            table.AppendLine(inv, $"| GET 1 KiB, one sequential caller vs `-c 1` (ops/s) | {Statistics.Median(single.Select(s => s.Rps)):N0} | {Statistics.Median(sequential.Select(s => s.Rps)):N0} | {rateRatio:P0} |");
            table.AppendLine(inv, $"| bytes allocated per sequential GET (the 1 KiB value included) | | {Statistics.Median(sequential.Select(s => s.BytesPerGet)):N0} | |");
            table.AppendLine();
            table.Append(inv, $"Client process per sequential GET: {Statistics.Median(sequential.Select(s => s.WorkItems)):0.00} thread-pool work items (each is a hop between threads)");
            if (sequential.All(s => s.CpuMicroseconds is not null))
            {
                table.Append(inv, $", {Statistics.Median(sequential.Select(s => s.CpuMicroseconds!.Value)):0.0} µs CPU, {Statistics.Median(sequential.Select(s => s.ContextSwitches!.Value)):0.00} voluntary context switches (all threads)");
            }

            table.AppendLine(".");

            Console.WriteLine();
            Console.WriteLine(table.ToString());
            return 0;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    private sealed record SequentialResult(double P50Ms, double P99Ms, double Rps, double WorkItems, double? CpuMicroseconds, double? ContextSwitches, double BytesPerGet);

    private sealed record Client(IDatabase Database, IServer Server)
    {
        public async Task<byte[]?> GetAsync(string key) => (byte[]?)await Database.StringGetAsync(key).ConfigureAwait(false);
    }

    private static (double Rps, double P50Ms) RunRedisBenchmark(string host, string port, string mode, long requests)
    {
        var executable = ServerProcess.Locate("redis-benchmark", "redis-tools");
        var arguments = $"-h {host} -p {port} -t get -d {ValueSize} -n {requests} --csv {mode}";
        Console.WriteLine($"  redis-benchmark {arguments}");
        var psi = new ProcessStartInfo(executable, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        // --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("\"GET\"", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"redis-benchmark printed no GET line:\n{output}\n{process.StandardError.ReadToEnd()}");
        var fields = line.Split(',').Select(f => f.Trim().Trim('"')).ToArray();
        return (double.Parse(fields[1], CultureInfo.InvariantCulture), double.Parse(fields[4], CultureInfo.InvariantCulture));
    }

    private static async Task<double> MeasureThroughputAsync(Client client, TimeSpan duration)
    {
        // Warm up (JIT, pools, TCP window) before measuring.
        await RunCallersAsync(client, TimeSpan.FromSeconds(Math.Min(2, duration.TotalSeconds / 2)));
        using var self = Process.GetCurrentProcess();
        var serverReads = await ServerReadsAsync(client);
        var cpu = self.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var workItems = ThreadPool.CompletedWorkItemCount;
        var operations = await RunCallersAsync(client, duration);
        var rate = operations / Stopwatch.GetElapsedTime(started).TotalSeconds;
        workItems = ThreadPool.CompletedWorkItemCount - workItems;
        self.Refresh();
        var cpuPerGet = (self.TotalProcessorTime - cpu).TotalMicroseconds / operations;

        // How many GETs the server found per socket read: how well the client batches its writes.
        var batch = operations / (double)(await ServerReadsAsync(client) - serverReads);
        Console.WriteLine(
            $"  client: {Callers} async callers, one connection: {rate:N0} GET/s; per GET {cpuPerGet:0.00} µs CPU, {(double)workItems / operations:0.00} thread-pool work items; {batch:0.0} GETs per server read");
        return rate;
    }

    private static async Task<long> RunCallersAsync(Client client, TimeSpan duration)
    {
        long operations = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            long mine = 0;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                for (var i = 0; i < 64; i++)
                {
                    if (await client.GetAsync(Key).ConfigureAwait(false) is not { Length: ValueSize })
                    {
                        throw new InvalidOperationException("GET returned the wrong value.");
                    }
                }

                mine += 64;
            }

            Interlocked.Add(ref operations, mine);
        })));
        return operations;
    }

    private static async Task<long> ServerReadsAsync(Client client)
    {
        var line = ((await client.Server.InfoRawAsync("stats")) ?? string.Empty).Split('\n').FirstOrDefault(l => l.StartsWith("total_reads_processed:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["total_reads_processed:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Voluntary context switches of every thread of this process so far (Linux), or null elsewhere.</summary>
    private static long? ContextSwitches()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        long total = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    // Voluntary only: a thread blocking (a hop to another thread); preemptions measure the machine's load.
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return total;
    }

    private static async Task<SequentialResult> MeasureSequentialAsync(Client client, TimeSpan duration)
    {
        for (var i = 0; i < 5_000; i++)
        {
            await client.GetAsync(Key);
        }

        // Bounded: at most this many samples are kept (about 16 MB).
        var samples = new long[2_000_000];
        var count = 0;
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var switchesBefore = ContextSwitches();
        var workItems = ThreadPool.CompletedWorkItemCount;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long total = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var t0 = Stopwatch.GetTimestamp();
            await client.GetAsync(Key).ConfigureAwait(false);
            var elapsed = Stopwatch.GetTimestamp() - t0;
            if (count < samples.Length)
            {
                samples[count++] = elapsed;
            }

            total++;
        }

        var rate = total / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var bytesPerGet = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / total;
        var hops = (double)(ThreadPool.CompletedWorkItemCount - workItems) / total;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalMicroseconds / total;
        var switches = ContextSwitches() - switchesBefore;
        Array.Sort(samples, 0, count);
        var p50 = samples[count / 2] * 1000.0 / Stopwatch.Frequency;
        var p99 = samples[Math.Min(count - 1, (int)(count * 0.99))] * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"  client: one sequential caller: p50 {p50:0.000} ms, p99 {p99:0.000} ms, {rate:N0} GET/s, {cpu:0.0} µs CPU and {(double?)switches / total:0.00} voluntary context switches and {hops:0.00} thread-pool work items, {bytesPerGet:0} bytes allocated (all threads, the 1 KiB value included) per GET");
        return new SequentialResult(p50, p99, rate, hops, OperatingSystem.IsLinux() ? cpu : null, (double?)switches / total, bytesPerGet);
    }
}
