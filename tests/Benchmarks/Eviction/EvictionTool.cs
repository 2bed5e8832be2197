using System.Diagnostics;
using System.Globalization;

namespace OptimizedCache.Benchmarks.Eviction;

/// <summary>
/// Hit ratios of the L1 policy (W-TinyLFU), LRU and Bélády's optimum on Zipf traces. Defaults: 10 M requests over
/// 1 M keys, skews 0.9 and 0.99, capacities 0.1% and 1% of the key space. Prints a Markdown table.
/// </summary>
public sealed class EvictionTool : IMeasuringTool
{
    /// <inheritdoc />
    public string Name => "eviction";

    /// <inheritdoc />
    public string Description => "L1 policy vs LRU vs Bélády hit ratios on Zipf traces [--requests N] [--keys N] [--skews a,b] [--capacities f,g] [--seed N]";

    /// <inheritdoc />
    public Task<int> RunAsync(string[] args)
    {
        var requests = 10_000_000;
        var keys = 1_000_000;
        double[] skews = [0.9, 0.99];
        double[] capacities = [0.001, 0.01];
        var seed = 42;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--requests": requests = int.Parse(value!, CultureInfo.InvariantCulture); i++; break;
                case "--keys": keys = int.Parse(value!, CultureInfo.InvariantCulture); i++; break;
                case "--skews": skews = ParseList(value!); i++; break;
                case "--capacities": capacities = ParseList(value!); i++; break;
                case "--seed": seed = int.Parse(value!, CultureInfo.InvariantCulture); i++; break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; {Description}");
                    return Task.FromResult(2);
            }
        }

        if (requests < 1 || keys < 2 || capacities.Any(c => c <= 0 || c >= 1) || skews.Any(s => s <= 0))
        {
            Console.Error.WriteLine("requests and keys must be positive, capacities fractions in (0, 1), skews positive");
            return Task.FromResult(2);
        }

        Console.WriteLine($"Zipf traces: {requests:N0} requests over {keys:N0} keys, seed {seed}");
        Console.WriteLine();
        Console.WriteLine("| skew | capacity | entries | LRU | W-TinyLFU (L1) | Bélády (OPT) | L1 − LRU | L1 / OPT |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var clock = Stopwatch.StartNew();
        foreach (var skew in skews)
        {
            var trace = ZipfTrace.Generate(requests, keys, skew, seed);
            foreach (var fraction in capacities)
            {
                var capacity = Math.Max(1, (int)(keys * fraction));
                var lru = PolicySimulations.Lru(trace, capacity);
                var tinyLfu = PolicySimulations.WTinyLfu(trace, capacity);
                var optimum = PolicySimulations.Belady(trace, keys, capacity);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {skew} | {fraction:P1} | {capacity:N0} | {lru:P2} | {tinyLfu:P2} | {optimum:P2} | {(tinyLfu - lru) * 100:+0.00;-0.00} pt | {tinyLfu / optimum:P1} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"({clock.Elapsed.TotalSeconds:F1} s)");
        return Task.FromResult(0);
    }

    private static double[] ParseList(string text)
        => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
