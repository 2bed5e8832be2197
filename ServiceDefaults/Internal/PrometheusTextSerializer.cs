using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// Writes one collection in the Prometheus text exposition format 0.0.4. The SDK hands each metric
/// over only for the duration of an export, so every metric is rendered as it is added; metrics that
/// map to the same Prometheus name (one instrument name in two meters) share one family, because the
/// format allows a family's HELP and TYPE lines only once.
/// </summary>
internal sealed class PrometheusTextSerializer
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string ScopeNameLabel = "otel_scope_name";
    private const string ScopeVersionLabel = "otel_scope_version";
    private const string BucketBoundLabel = "le";

    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly List<Family> _order = [];
    private readonly List<KeyValuePair<string, string>> _labels = [];

    /// <summary>
    /// Renders <paramref name="metric"/>. Returns the conflicting family's type when its Prometheus
    /// name is already taken by a metric of another kind (the metric is then left out), else null.
    /// </summary>
    public PrometheusKind? Add(Metric metric, PrometheusNameCache names)
    {
        var kind = PrometheusNaming.KindOf(metric.MetricType);
        if (kind == PrometheusKind.Unsupported)
        {
            return null;
        }

        var name = names.Get(metric.Name, metric.Unit, kind);
        if (_families.TryGetValue(name, out var family))
        {
            if (family.Kind != kind)
            {
                return family.Kind;
            }
        }
        else
        {
            var help = string.IsNullOrWhiteSpace(metric.Description) ? metric.Name : metric.Description;
            family = new Family(name, kind, help);
            _families.Add(name, family);
            _order.Add(family);
        }

        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            CollectLabels(point.Tags, metric.MeterName, metric.MeterVersion, kind);
            switch (metric.MetricType)
            {
                case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                    WriteSample(family.Samples, name, null, point.GetSumLong());
                    break;
                case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                    WriteSample(family.Samples, name, null, point.GetSumDouble());
                    break;
                case MetricType.LongGauge:
                    WriteSample(family.Samples, name, null, point.GetGaugeLastValueLong());
                    break;
                case MetricType.DoubleGauge:
                    WriteSample(family.Samples, name, null, point.GetGaugeLastValueDouble());
                    break;
                case MetricType.Histogram:
                    WriteHistogram(family.Samples, name, point);
                    break;
            }
        }

        return null;
    }

    /// <summary>Adds <c>target_info</c>, the resource's attributes as labels on a constant 1.</summary>
    public void AddTargetInfo(Resource? resource)
    {
        if (resource is null || _families.ContainsKey("target_info"))
        {
            return;
        }

        _labels.Clear();
        foreach (var attribute in resource.Attributes)
        {
            AddLabel(PrometheusNaming.LabelName(attribute.Key), FormatTagValue(attribute.Value));
        }

        if (_labels.Count == 0)
        {
            return;
        }

        var family = new Family("target_info", PrometheusKind.Gauge, "Target metadata");
        WriteSample(family.Samples, "target_info", null, 1L);
        _families.Add(family.Name, family);
        _order.Add(family);
    }

    /// <summary>The whole exposition, UTF-8 encoded.</summary>
    public byte[] ToUtf8()
    {
        var text = new StringBuilder();
        foreach (var family in _order)
        {
            text.Append("# HELP ").Append(family.Name).Append(' ');
            AppendEscaped(text, family.Help, escapeQuotes: false);
            text.Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append(' ').Append(TypeText(family)).Append('\n');
            text.Append(family.Samples);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Formats a sample value or bucket bound as Prometheus parses it (Go's ParseFloat).</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('E', StringComparison.Ordinal) && Math.Abs(value) is > 1e-20 and < 1e20)
        {
            // 5E-05 parses, but bucket bounds read better as 0.00005; keep it only if exact.
            var plain = ((decimal)value).ToString(CultureInfo.InvariantCulture);
            if (double.Parse(plain, CultureInfo.InvariantCulture) == value)
            {
                return plain;
            }
        }

        return text;
    }

    private static string TypeText(Family family) => family.Kind switch
    {
        PrometheusKind.Counter => "counter",
        PrometheusKind.Histogram => "histogram",

        // Prometheus reserves these suffixes for counters, histograms and summaries (promtool's lint
        // rejects a gauge named so, e.g. the runtime's dotnet_process_cpu_count); untyped keeps the
        // name the conventions give and stores the same samples.
        _ when family.Name.EndsWith("_count", StringComparison.Ordinal)
            || family.Name.EndsWith("_sum", StringComparison.Ordinal)
            || family.Name.EndsWith("_bucket", StringComparison.Ordinal)
            || family.Name.EndsWith("_total", StringComparison.Ordinal) => "untyped",
        _ => "gauge",
    };

    private void CollectLabels(ReadOnlyTagCollection tags, string meterName, string? meterVersion, PrometheusKind kind)
    {
        _labels.Clear();
        foreach (var tag in tags)
        {
            var labelName = PrometheusNaming.LabelName(tag.Key);

            // A duplicate label name makes Prometheus reject the whole scrape: the names this
            // exporter adds itself win over a tag that sanitizes to the same name.
            if (labelName is ScopeNameLabel or ScopeVersionLabel
                || (kind == PrometheusKind.Histogram && labelName == BucketBoundLabel))
            {
                continue;
            }

            AddLabel(labelName, FormatTagValue(tag.Value));
        }

        AddLabel(ScopeNameLabel, meterName);
        if (!string.IsNullOrEmpty(meterVersion))
        {
            AddLabel(ScopeVersionLabel, meterVersion);
        }
    }

    private void AddLabel(string name, string value)
    {
        // Two tags that sanitize to one name ("a.b" and "a_b") are joined with ';', as the
        // OpenTelemetry compatibility specification asks.
        for (var i = 0; i < _labels.Count; i++)
        {
            if (_labels[i].Key == name)
            {
                _labels[i] = new(name, _labels[i].Value + ";" + value);
                return;
            }
        }

        _labels.Add(new(name, value));
    }

    private void WriteHistogram(StringBuilder samples, string name, in MetricPoint point)
    {
        long cumulative = 0;
        var bucketName = name + "_bucket";
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            WriteSample(samples, bucketName, FormatDouble(bucket.ExplicitBound), cumulative);
        }

        WriteSample(samples, name + "_sum", null, point.GetHistogramSum());
        WriteSample(samples, name + "_count", null, point.GetHistogramCount());
    }

    private void WriteSample(StringBuilder samples, string name, string? bucketBound, long value)
    {
        WriteSeries(samples, name, bucketBound);
        samples.Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private void WriteSample(StringBuilder samples, string name, string? bucketBound, double value)
    {
        WriteSeries(samples, name, bucketBound);
        samples.Append(FormatDouble(value)).Append('\n');
    }

    private void WriteSeries(StringBuilder samples, string name, string? bucketBound)
    {
        samples.Append(name);
        if (_labels.Count == 0 && bucketBound is null)
        {
            samples.Append(' ');
            return;
        }

        samples.Append('{');
        var first = true;
        foreach (var (label, value) in _labels)
        {
            if (!first)
            {
                samples.Append(',');
            }

            first = false;
            samples.Append(label).Append("=\"");
            AppendEscaped(samples, value, escapeQuotes: true);
            samples.Append('"');
        }

        if (bucketBound is not null)
        {
            samples.Append(first ? "" : ",").Append("le=\"").Append(bucketBound).Append('"');
        }

        samples.Append("} ");
    }

    private static void AppendEscaped(StringBuilder builder, string value, bool escapeQuotes)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '"' when escapeQuotes:
                    builder.Append("\\\"");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
    }

    private static string FormatTagValue(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        double number => FormatDouble(number),
        float number => FormatDouble(number),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private sealed class Family(string name, PrometheusKind kind, string help)
    {
        public string Name { get; } = name;

        public PrometheusKind Kind { get; } = kind;

        public string Help { get; } = help;

        public StringBuilder Samples { get; } = new();
    }
}
