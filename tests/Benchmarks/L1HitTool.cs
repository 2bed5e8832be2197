using System.Diagnostics;
using System.Globalization;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// A quick interleaved companion to <see cref="L1HitBenchmarks"/> for a busy machine: the three methods run in
/// alternating rounds on the same setup, and the best and median round of each are compared. BenchmarkDotNet's run
/// is the figure of record; this one shows whether a change helps when the machine cannot be quiet.
/// </summary>
/// <remarks><c>dotnet run -c Release --project tests/Benchmarks -- l1-hit [--rounds N]</c></remarks>
public sealed class L1HitTool : IMeasuringTool
{
    /// <inheritdoc />
    public string Name => "l1-hit";

    /// <inheritdoc />
    public string Description => "L1 hit path vs IMemoryCache.TryGetValue, interleaved rounds (best and median)";

    /// <inheritdoc />
    public Task<int> RunAsync(string[] args)
    {
        var rounds = 30;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length && int.TryParse(args[i + 1], out rounds) && rounds > 0)
            {
                i++;
            }
            else
            {
                Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Usage: l1-hit [--rounds N]");
                return Task.FromResult(2);
            }
        }

        var bench = new L1HitBenchmarks();
        bench.Setup();
        try
        {
            (string Name, Func<int> Run)[] methods =
            [
                ("IMemoryCache.TryGetValue", bench.MemoryCacheTryGetValue),
                ("HybridCache.GetOrCreateAsync", bench.HybridGetOrCreateL1Hit),
                ("OptimizedHybridCache.GetOrCreateAsync", bench.OptimizedTypedGetOrCreateL1Hit),
            ];
            var samples = methods.Select(_ => new List<double>()).ToArray();
            const int InvocationsPerRound = 2000;
            for (var round = -3; round < rounds; round++)
            {
                for (var m = 0; m < methods.Length; m++)
                {
                    var started = Stopwatch.GetTimestamp();
                    for (var i = 0; i < InvocationsPerRound; i++)
                    {
                        methods[m].Run();
                    }

                    var nanoseconds = Stopwatch.GetElapsedTime(started).TotalNanoseconds / (InvocationsPerRound * (double)L1HitBenchmarks.KeyCount);
                    if (round >= 0)
                    {
                        samples[m].Add(nanoseconds); // the first rounds warm the JIT's tiers up
                    }
                }
            }

            Console.WriteLine($"l1-hit: {rounds} interleaved rounds of {InvocationsPerRound} x {L1HitBenchmarks.KeyCount} lookups each");
            Console.WriteLine("| method | best ns/op | median ns/op | best vs TryGetValue |");
            Console.WriteLine("| --- | --- | --- | --- |");
            var baseline = samples[0].Min();
            for (var m = 0; m < methods.Length; m++)
            {
                var sorted = samples[m].Order().ToArray();
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {methods[m].Name} | {sorted[0]:0.0} | {sorted[sorted.Length / 2]:0.0} | {sorted[0] / baseline:0.00}x |"));
            }

            return Task.FromResult(0);
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
