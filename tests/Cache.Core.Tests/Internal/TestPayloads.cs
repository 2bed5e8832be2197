using System.Text;

namespace OptimizedCache.Cache.Core.Tests.Internal;

/// <summary>Deterministic payloads: JSON-like (compressible) and random (incompressible).</summary>
internal static class TestPayloads
{
    public static byte[] JsonLike(int length, int seed = 1)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 256);
        var id = 0;
        while (text.Length < length)
        {
            id++;
            text.Append("{\"id\":").Append(1000 + id)
                .Append(",\"title\":\"Organic cotton t-shirt ").Append(random.Next(1, 500))
                .Append("\",\"price\":").Append(random.Next(500, 9000) / 100.0)
                .Append(",\"tags\":[\"apparel\",\"summer\"],\"inStock\":").Append(random.Next(2) == 0 ? "true" : "false")
                .Append(",\"description\":\"A soft, breathable shirt in size ").Append("SMLX"[random.Next(4)])
                .Append(".\"},");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, length));
    }

    public static byte[] Random(int length, int seed = 2)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
