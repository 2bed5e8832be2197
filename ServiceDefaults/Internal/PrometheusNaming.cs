using System.Text;
using OpenTelemetry.Metrics;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>How an OpenTelemetry metric is exposed in the Prometheus text format.</summary>
internal enum PrometheusKind
{
    /// <summary>Not exposed (exponential histograms, which the text format 0.0.4 cannot carry).</summary>
    Unsupported,

    /// <summary>A monotonic sum (Counter, ObservableCounter).</summary>
    Counter,

    /// <summary>A gauge or a non-monotonic sum (UpDownCounter).</summary>
    Gauge,

    /// <summary>An explicit-bucket histogram.</summary>
    Histogram,
}

/// <summary>
/// OpenTelemetry names and units to Prometheus names, as the OpenTelemetry/Prometheus compatibility
/// specification and Prometheus' OTLP translator do: invalid characters become <c>_</c>, the unit
/// becomes a suffix (<c>s</c> → <c>_seconds</c>, <c>By</c> → <c>_bytes</c>, <c>{…}</c> annotations
/// dropped, <c>1</c> → <c>_ratio</c> on gauges), and counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNaming
{
    public static PrometheusKind KindOf(MetricType type) => type switch
    {
        MetricType.LongSum or MetricType.DoubleSum => PrometheusKind.Counter,
        MetricType.LongGauge or MetricType.DoubleGauge => PrometheusKind.Gauge,
        MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => PrometheusKind.Gauge,
        MetricType.Histogram => PrometheusKind.Histogram,
        _ => PrometheusKind.Unsupported,
    };

    /// <summary>The metric family name: sanitized name, unit suffix, then <c>_total</c> for counters.</summary>
    public static string MetricName(string name, string? unit, PrometheusKind kind)
    {
        var result = SanitizeMetricName(name);
        if (kind == PrometheusKind.Counter && result.EndsWith("_total", StringComparison.Ordinal))
        {
            // The unit goes before the type suffix: "io.total" in By becomes io_bytes_total.
            result = result[..^"_total".Length];
        }

        var suffix = UnitSuffix(unit);
        if (suffix.Length == 0 && kind == PrometheusKind.Gauge && unit == "1")
        {
            suffix = "ratio";
        }

        if (suffix.Length > 0 && result != suffix && !result.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            result += "_" + suffix;
        }

        if (kind == PrometheusKind.Counter)
        {
            result += "_total";
        }

        return result;
    }

    /// <summary>
    /// Characters outside <c>[a-zA-Z0-9_]</c> become <c>_</c> (colons are reserved for recording
    /// rules), runs of <c>_</c> collapse to one, and a leading digit gets a <c>_</c> in front.
    /// </summary>
    public static string SanitizeMetricName(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        if (name.Length > 0 && char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            var valid = char.IsAsciiLetterOrDigit(c) ? c : '_';
            if (valid == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(valid);
        }

        return builder.Length == 0 ? "_" : builder.ToString();
    }

    /// <summary>
    /// A label name: invalid characters become <c>_</c>; a leading digit gets <c>key_</c> in front and
    /// a leading <c>_</c> gets <c>key</c> (names starting with <c>__</c> are Prometheus' own).
    /// </summary>
    public static string LabelName(string key)
    {
        if (key.Length == 0)
        {
            return "key_";
        }

        var builder = new StringBuilder(key.Length + 4);
        if (char.IsAsciiDigit(key[0]))
        {
            builder.Append("key_");
        }
        else if (key[0] is not (>= 'a' and <= 'z' or >= 'A' and <= 'Z'))
        {
            builder.Append("key");
        }

        foreach (var c in key)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return builder.ToString();
    }

    /// <summary>The unit as a name suffix (without the leading <c>_</c>), or empty when it adds none.</summary>
    public static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return string.Empty;
        }

        var stripped = RemoveAnnotations(unit).Trim();
        var slash = stripped.IndexOf('/', StringComparison.Ordinal);
        var words = slash > 0 && slash < stripped.Length - 1
            ? $"{MapUnit(stripped[..slash])}_per_{MapPerUnit(stripped[(slash + 1)..])}"
            : slash == 0 && stripped.Length > 1
                ? $"per_{MapPerUnit(stripped[1..])}"
                : MapUnit(stripped);
        return SanitizeUnit(words);
    }

    private static string RemoveAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string SanitizeUnit(string unit)
    {
        var builder = new StringBuilder(unit.Length);
        foreach (var c in unit)
        {
            var valid = char.IsAsciiLetterOrDigit(c) ? c : '_';
            if (valid == '_' && (builder.Length == 0 || builder[^1] == '_'))
            {
                continue;
            }

            builder.Append(valid);
        }

        return builder.ToString().TrimEnd('_');
    }

    // UCUM units (as OpenTelemetry's semantic conventions write them) to Prometheus' base-unit words.
    private static string MapUnit(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        "1" => string.Empty,
        _ => unit,
    };

    private static string MapPerUnit(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => unit,
    };
}
