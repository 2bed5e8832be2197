using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// Ratio and throughput of each compression codec on generated JSON product documents of 1, 10, 100 and
/// 1000 KiB, printed as a Markdown table.
/// </summary>
public sealed class CompressionTool : IMeasuringTool
{
    /// <inheritdoc />
    public string Name => "compression";

    /// <inheritdoc />
    public string Description => "codec ratio and MB/s on JSON product documents (--seconds S per measurement, --sizes 1,10,100,1000 in KiB)";

    /// <inheritdoc />
    public Task<int> RunAsync(string[] args)
    {
        var seconds = 1.0;
        int[] sizesKiB = [1, 10, 100, 1000];
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length:
                    seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--sizes" when i + 1 < args.Length:
                    sizesKiB = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: compression [--seconds S] [--sizes 1,10,100,1000]");
                    return Task.FromResult(2);
            }
        }

        if (seconds <= 0 || sizesKiB.Any(s => s <= 0))
        {
            Console.Error.WriteLine("--seconds and every size must be positive");
            return Task.FromResult(2);
        }

        var registry = CompressionCodecRegistry.CreateDefault(int.MaxValue, NullLogger.Instance);
        foreach (var missing in registry.All.Where(c => !c.IsAvailable))
        {
            Console.WriteLine($"skipped {missing.Name}: {missing.UnavailableReason}");
        }

        Console.WriteLine($"{Environment.ProcessorCount} processors, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {seconds.ToString(CultureInfo.InvariantCulture)} s per measurement");
        Console.WriteLine();
        Console.WriteLine("| document | codec | compressed | ratio | compress MB/s | decompress MB/s |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var sizeKiB in sizesKiB)
        {
            var document = ProductDocumentGenerator.Generate(sizeKiB * 1024);
            foreach (var codec in registry.Available)
            {
                var row = Measure(codec, document, seconds);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {sizeKiB} KiB ({document.Length:N0} B) | {codec.Name} | {row.Compressed:N0} B | {row.Ratio:0.000} | {row.CompressMBps:N0} | {row.DecompressMBps:N0} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("ratio = compressed / original; MB/s = 10^6 bytes of uncompressed data per second, one thread.");
        return Task.FromResult(0);
    }

    private static (int Compressed, double Ratio, double CompressMBps, double DecompressMBps) Measure(
        ICompressionCodec codec, byte[] document, double seconds)
    {
        var compressed = new ArrayBufferWriter<byte>(document.Length + 1024);
        codec.Compress(document, compressed);
        var stored = compressed.WrittenSpan.ToArray();
        var restored = new byte[document.Length];
        if (!codec.TryDecompress(stored, document.Length, restored) || !restored.AsSpan().SequenceEqual(document))
        {
            throw new InvalidOperationException($"{codec.Name} did not round-trip a {document.Length}-byte document.");
        }

        var compressRate = Rate(document.Length, seconds, () =>
        {
            compressed.ResetWrittenCount();
            codec.Compress(document, compressed);
        });
        var decompressRate = Rate(document.Length, seconds, () => codec.TryDecompress(stored, document.Length, restored));
        return (stored.Length, (double)stored.Length / document.Length, compressRate, decompressRate);
    }

    private static double Rate(int bytesPerCall, double seconds, Action call)
    {
        // Warm up (JIT, native contexts), then run whole batches until the time is spent.
        var warmUpUntil = Stopwatch.GetTimestamp() + (long)(Stopwatch.Frequency * Math.Min(0.2, seconds / 4));
        while (Stopwatch.GetTimestamp() < warmUpUntil)
        {
            call();
        }

        var batch = Math.Max(1, (4 * 1024 * 1024) / Math.Max(1, bytesPerCall));
        var calls = 0L;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(Stopwatch.Frequency * seconds);
        long now;
        do
        {
            for (var i = 0; i < batch; i++)
            {
                call();
            }

            calls += batch;
            now = Stopwatch.GetTimestamp();
        }
        while (now < deadline);

        var elapsed = (double)(now - start) / Stopwatch.Frequency;
        return calls * (double)bytesPerCall / elapsed / 1e6;
    }
}
