using System.Globalization;

namespace OptimizedCache.ServiceDefaults.Tests.Infrastructure;

/// <summary>Reads samples back out of a Prometheus text exposition.</summary>
internal static class Exposition
{
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Sample lines of <paramref name="series"/> (name followed by labels or a space).</summary>
    public static string[] Samples(string text, string series) =>
        Lines(text).Where(l => l.StartsWith(series + "{", StringComparison.Ordinal) || l.StartsWith(series + " ", StringComparison.Ordinal)).ToArray();

    public static double Value(string sampleLine) =>
        double.Parse(sampleLine[(sampleLine.LastIndexOf(' ') + 1)..].Replace("+Inf", "Infinity", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    public static string? Label(string sampleLine, string label)
    {
        var start = sampleLine.IndexOf(label + "=\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += label.Length + 2;
        var end = sampleLine.IndexOf('"', start);
        return sampleLine[start..end];
    }
}
