using System.Text;

namespace OptimizedCache.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// Reads just enough of an OTLP <c>ExportMetricsServiceRequest</c> (protobuf) to list each metric's name and
/// aggregation temporality: resource_metrics(1) → scope_metrics(2) → metrics(2) → name(1) and
/// sum(7) / histogram(9) / exponential_histogram(10) → aggregation_temporality(2).
/// </summary>
internal static class OtlpMetricsReader
{
    /// <summary>OTLP's AggregationTemporality values.</summary>
    public const int Delta = 1, Cumulative = 2;

    public static IReadOnlyList<(string Name, int? Temporality)> Metrics(byte[] request)
    {
        var result = new List<(string, int?)>();
        foreach (var resourceMetrics in Fields(request, 1))
        {
            foreach (var scopeMetrics in Fields(resourceMetrics, 2))
            {
                foreach (var metric in Fields(scopeMetrics, 2))
                {
                    var name = Encoding.UTF8.GetString(Fields(metric, 1).FirstOrDefault() ?? []);
                    int? temporality = null;
                    foreach (var data in Fields(metric, 7).Concat(Fields(metric, 9)).Concat(Fields(metric, 10)))
                    {
                        temporality = (int?)Varints(data, 2).FirstOrDefault();
                    }

                    result.Add((name, temporality));
                }
            }
        }

        return result;
    }

    private static IEnumerable<byte[]> Fields(byte[] message, int number)
    {
        foreach (var (field, wireType, value, bytes) in Walk(message))
        {
            if (field == number && wireType == 2)
            {
                yield return bytes!;
            }
        }
    }

    private static IEnumerable<ulong> Varints(byte[] message, int number)
    {
        foreach (var (field, wireType, value, _) in Walk(message))
        {
            if (field == number && wireType == 0)
            {
                yield return value;
            }
        }
    }

    private static IEnumerable<(int Field, int WireType, ulong Value, byte[]? Bytes)> Walk(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var field = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    yield return (field, wireType, ReadVarint(message, ref position), null);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return (field, wireType, 0, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType} at byte {position}.");
            }
        }
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
