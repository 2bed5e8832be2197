using System.Diagnostics;
using System.Globalization;
using System.Text;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Benchmarks.Redis;

/// <summary>
/// Measures the Redis client against <c>redis-benchmark</c> in one run on one server: 1 KiB GET throughput with 64
/// concurrent callers on one connection (target: at least 50% of <c>-c 50 -P 16</c>) and the median latency of one
/// sequential caller (target: within 1.3x of <c>-c 1</c>).
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project tests/Benchmarks -- redis-client [--seconds 10] [--server host:port]</c>.
/// Without <c>--server</c> it starts a redis-server on a free loopback port.
/// </remarks>
public sealed class RedisClientTool : IMeasuringTool
{
    private const string Key = "key:__rand_int__";
    private const int ValueSize = 1024;
    private const int Callers = 64;

    /// <inheritdoc />
    public string Name => "redis-client";

    /// <inheritdoc />
    public string Description => "1 KiB GET throughput and p50 latency of the Redis client vs redis-benchmark, one run";

    /// <inheritdoc />
    public async Task<int> RunAsync(string[] args)
    {
        var seconds = 10;
        string? endpoint = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length:
                    seconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--server" when i + 1 < args.Length:
                    endpoint = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: redis-client [--seconds N] [--server host:port]");
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
            await using var client = await RedisClient.ConnectAsync(endpoint);
            var value = new byte[ValueSize];
            Random.Shared.NextBytes(value);
            await client.SetAsync(Key, value);

            Console.WriteLine($"redis-client benchmark: {seconds} s per phase against {endpoint}");
            var pipelined = RunRedisBenchmark(host, port, "-c 50 -P 16", requests: 300_000L * seconds);
            var fifty = RunRedisBenchmark(host, port, "-c 50", requests: 90_000L * seconds);
            var single = RunRedisBenchmark(host, port, "-c 1", requests: 30_000L * seconds);

            var throughput = await MeasureThroughputAsync(client, TimeSpan.FromSeconds(seconds));
            var (ourP50, ourOps) = await MeasureSequentialAsync(client, TimeSpan.FromSeconds(seconds));

            var table = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            table.AppendLine("| what | redis-benchmark | OptimizedCache client | ratio | target |");
            table.AppendLine("| --- | --- | --- | --- | --- |");
            table.AppendLine(inv, $"| GET 1 KiB, 64 async callers on 1 connection vs `-c 50 -P 16` (ops/s) | {pipelined.Rps:N0} | {throughput:N0} | {throughput / pipelined.Rps:P0} | >= 50% |");
            table.AppendLine(inv, $"| GET 1 KiB, `-c 50` without pipelining, for reference (ops/s) | {fifty.Rps:N0} | | | |");
            table.AppendLine(inv, $"| GET 1 KiB, one sequential caller vs `-c 1`: p50 (ms) | {single.P50Ms:0.000} | {ourP50:0.000} | {ourP50 / single.P50Ms:0.00}x | <= 1.3x |");
            table.AppendLine(inv, $"| GET 1 KiB, one sequential caller vs `-c 1` (ops/s) | {single.Rps:N0} | {ourOps:N0} | {ourOps / single.Rps:P0} | |");
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

    private static async Task<double> MeasureThroughputAsync(RedisClient client, TimeSpan duration)
    {
        // Warm up (JIT, pools, TCP window) before measuring.
        await RunCallersAsync(client, TimeSpan.FromSeconds(Math.Min(2, duration.TotalSeconds / 2)));
        var started = Stopwatch.GetTimestamp();
        var operations = await RunCallersAsync(client, duration);
        var rate = operations / Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine($"  client: {Callers} async callers, one connection: {rate:N0} GET/s");
        return rate;
    }

    private static async Task<long> RunCallersAsync(RedisClient client, TimeSpan duration)
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

    private static async Task<(double P50Ms, double Rps)> MeasureSequentialAsync(RedisClient client, TimeSpan duration)
    {
        for (var i = 0; i < 5_000; i++)
        {
            await client.GetAsync(Key);
        }

        // Bounded: at most this many samples are kept (about 16 MB).
        var samples = new long[2_000_000];
        var count = 0;
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
        Array.Sort(samples, 0, count);
        var p50 = samples[count / 2] * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"  client: one sequential caller: p50 {p50:0.000} ms, {rate:N0} GET/s");
        return (p50, rate);
    }
}
