using System.Globalization;
using System.Text;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>One sample of the Prometheus text format: a series name, its labels and value.</summary>
/// <param name="Name">The series name.</param>
/// <param name="Labels">The labels.</param>
/// <param name="Value">The value.</param>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A scrape of <c>/metrics</c> (Prometheus text format 0.0.4), with sums over label filters so tools can take deltas
/// of counters between two scrapes (docs/metrics.md names the series).
/// </summary>
internal sealed class MetricsSnapshot
{
    private readonly ILookup<string, MetricSample> _byName;

    private MetricsSnapshot(IEnumerable<MetricSample> samples) => _byName = samples.ToLookup(s => s.Name, StringComparer.Ordinal);

    /// <summary>An empty snapshot (an Api that could not be scraped).</summary>
    public static MetricsSnapshot Empty { get; } = new([]);

    /// <summary>Parses the exposition text; comment lines are skipped, a malformed line is an <see cref="ArgumentException"/> naming it.</summary>
    public static MetricsSnapshot Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            samples.Add(ParseLine(line));
        }

        return new MetricsSnapshot(samples);
    }

    /// <summary>True when at least one sample of the series exists.</summary>
    public bool Has(string name) => _byName.Contains(name);

    /// <summary>Sum of the series' samples whose labels match every filter (<c>label=value</c>); 0 when none.</summary>
    public double Sum(string name, params (string Label, string Value)[] filters) =>
        _byName[name].Where(s => filters.All(f => s.Labels.TryGetValue(f.Label, out var v) && v == f.Value)).Sum(s => s.Value);

    /// <summary>The first matching sample's value, or null.</summary>
    public double? Value(string name, params (string Label, string Value)[] filters) =>
        _byName[name].Where(s => filters.All(f => s.Labels.TryGetValue(f.Label, out var v) && v == f.Value)).Select(s => (double?)s.Value).FirstOrDefault();

    private static MetricSample ParseLine(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    throw new ArgumentException($"malformed labels in metrics line '{Truncate(line)}'", nameof(line));
                }

                var label = line[i..eq].Trim();
                var value = new StringBuilder();
                var j = eq + 2;
                for (; j < line.Length && line[j] != '"'; j++)
                {
                    if (line[j] == '\\' && j + 1 < line.Length)
                    {
                        j++;
                        value.Append(line[j] == 'n' ? '\n' : line[j]);
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                labels[label] = value.ToString();
                i = j + 1;
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        var parts = line[Math.Min(i, line.Length)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (name.Length == 0 || parts.Length == 0 || !TryParseValue(parts[0], out var number))
        {
            throw new ArgumentException($"malformed metrics line '{Truncate(line)}'", nameof(line));
        }

        return new MetricSample(name, labels, number);
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            case "NaN": value = double.NaN; return true;
            default: return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static string Truncate(string line) => line.Length <= 120 ? line : line[..120] + "…";
}
