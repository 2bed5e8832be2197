using System.Globalization;
using System.Net;
using System.Text.Json;

namespace OptimizedCache.Monitoring.Prometheus;

/// <summary>
/// A typed client for the Prometheus HTTP API (<c>/api/v1/query</c>, <c>/api/v1/query_range</c>). Transport failures
/// and timeouts become <see cref="PrometheusUnavailableException"/>; query errors Prometheus reports become
/// <see cref="PrometheusQueryException"/>.
/// </summary>
public sealed class PrometheusClient(HttpClient http)
{
    /// <summary>Longest response body read, so a misbehaving server cannot exhaust memory.</summary>
    private const int MaxResponseBytes = 8 * 1024 * 1024;

    /// <summary>The server's base address.</summary>
    public Uri? BaseAddress => http.BaseAddress;

    /// <summary>Runs an instant query at <paramref name="time"/> and returns its samples (vector or scalar result).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql, DateTimeOffset time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(promql);
        var uri = "api/v1/query?query=" + Uri.EscapeDataString(promql) + "&time=" + FormatTime(time);
        using var document = await SendAsync(uri, promql, cancellationToken);
        var data = document.RootElement.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        var samples = new List<PrometheusSample>();
        switch (resultType)
        {
            case "vector":
                foreach (var item in result.EnumerateArray())
                {
                    samples.Add(new PrometheusSample(ReadLabels(item), ParseValue(item.GetProperty("value"))));
                }

                break;
            case "scalar":
                samples.Add(new PrometheusSample(new Dictionary<string, string>(), ParseValue(result)));
                break;
            default:
                throw new PrometheusQueryException(promql, $"unexpected result type '{resultType}' for an instant query");
        }

        return samples;
    }

    /// <summary>Runs a range query and returns one series per result.</summary>
    public async Task<IReadOnlyList<PrometheusSeries>> QueryRangeAsync(
        string promql, DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(promql);
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be positive.");
        }

        if (end < start)
        {
            throw new ArgumentException($"The range end {end:O} is before its start {start:O}.", nameof(end));
        }

        var uri = "api/v1/query_range?query=" + Uri.EscapeDataString(promql)
            + "&start=" + FormatTime(start) + "&end=" + FormatTime(end)
            + "&step=" + step.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        using var document = await SendAsync(uri, promql, cancellationToken);
        var result = document.RootElement.GetProperty("data").GetProperty("result");
        var series = new List<PrometheusSeries>();
        foreach (var item in result.EnumerateArray())
        {
            var points = new List<PrometheusPoint>();
            foreach (var value in item.GetProperty("values").EnumerateArray())
            {
                var sample = ParseValue(value);
                points.Add(new PrometheusPoint(DateTimeOffset.FromUnixTimeMilliseconds((long)(value[0].GetDouble() * 1000)), sample));
            }

            series.Add(new PrometheusSeries(ReadLabels(item), points));
        }

        return series;
    }

    private async Task<JsonDocument> SendAsync(string relativeUri, string promql, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(relativeUri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new PrometheusUnavailableException($"Prometheus at {http.BaseAddress} is unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PrometheusUnavailableException(
                $"Prometheus at {http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0.#} s.", e);
        }

        using (response)
        {
            if (response.Content.Headers.ContentLength > MaxResponseBytes)
            {
                throw new PrometheusQueryException(promql, $"response of {response.Content.Headers.ContentLength} bytes exceeds the limit");
            }

            JsonDocument document;
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                document = await JsonDocument.ParseAsync(new LimitedStream(stream, MaxResponseBytes), default, cancellationToken);
            }
            catch (JsonException e)
            {
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity)
                {
                    throw new PrometheusQueryException(promql, $"the response was not JSON ({e.Message})");
                }

                throw new PrometheusUnavailableException(
                    $"Prometheus at {http.BaseAddress} answered {(int)response.StatusCode} {response.ReasonPhrase}.", e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new PrometheusUnavailableException($"Prometheus at {http.BaseAddress} dropped the response: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PrometheusUnavailableException(
                    $"Prometheus at {http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0.#} s.", e);
            }

            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("status", out var status)
                || status.GetString() != "success")
            {
                var errorType = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errorType", out var t) ? t.GetString() : null;
                var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var m) ? m.GetString() : null;
                document.Dispose();
                if ((int)response.StatusCode >= 500 && errorType is null)
                {
                    throw new PrometheusUnavailableException($"Prometheus at {http.BaseAddress} answered {(int)response.StatusCode}.");
                }

                throw new PrometheusQueryException(promql, $"{errorType ?? "error"}: {error ?? $"HTTP {(int)response.StatusCode}"}");
            }

            return document;
        }
    }

    private static IReadOnlyDictionary<string, string> ReadLabels(JsonElement item)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (item.TryGetProperty("metric", out var metric))
        {
            foreach (var label in metric.EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString() ?? string.Empty;
            }
        }

        return labels;
    }

    private static double ParseValue(JsonElement pair) =>
        pair[1].GetString() switch
        {
            "NaN" => double.NaN,
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var text => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
        };

    private static string FormatTime(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Fails the read once more than the limit has been read.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new IOException($"The response exceeds {limit} bytes.");
            }

            return read;
        }
    }
}

/// <summary>One sample of an instant query.</summary>
/// <param name="Labels">The series' labels.</param>
/// <param name="Value">The value (NaN when Prometheus said NaN).</param>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>One series of a range query.</summary>
/// <param name="Labels">The series' labels.</param>
/// <param name="Points">Its points in time order.</param>
public sealed record PrometheusSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<PrometheusPoint> Points);

/// <summary>A point of a range query.</summary>
/// <param name="Time">When.</param>
/// <param name="Value">The value.</param>
public readonly record struct PrometheusPoint(DateTimeOffset Time, double Value);

/// <summary>Prometheus could not be reached, timed out, or failed as a server.</summary>
public sealed class PrometheusUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Prometheus answered but rejected or failed the query.</summary>
public sealed class PrometheusQueryException(string query, string reason)
    : Exception($"Prometheus rejected the query '{query}': {reason}")
{
    /// <summary>The PromQL that failed.</summary>
    public string Query { get; } = query;
}
