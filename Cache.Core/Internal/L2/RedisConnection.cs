using System.Net;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Parses the cache's Redis connection string and names endpoints without secrets.</summary>
internal static class RedisConnection
{
    /// <summary>
    /// Parses a StackExchange.Redis connection string. A malformed one throws an <see cref="ArgumentException"/> that
    /// names the offending part with any password masked; one with no endpoint throws too.
    /// </summary>
    public static ConfigurationOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException(
                $"The Redis connection string '{Mask(connectionString)}' is invalid: {OffendingPart(connectionString) ?? ex.Message}", nameof(connectionString));
        }

        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException($"The Redis connection string '{Mask(connectionString)}' names no endpoint (host:port).", nameof(connectionString));
        }

        return options;
    }

    /// <summary>The connection string with the values of password-like options replaced by <c>***</c>.</summary>
    public static string Mask(string connectionString) => string.Join(',', connectionString.Split(',').Select(static part =>
    {
        var equals = part.IndexOf('=');
        return equals > 0 && IsSecret(part[..equals]) ? part[..(equals + 1)] + "***" : part;
    }));

    /// <summary>host:port of an endpoint.</summary>
    public static string Format(EndPoint? endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        IPEndPoint ip => ip.ToString(),
        null => "(none)",
        _ => endpoint.ToString() ?? "(unknown)",
    };

    private static bool IsSecret(string keyword)
    {
        var name = keyword.Trim();
        return name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("pwd", StringComparison.OrdinalIgnoreCase)
            || name.Contains("secret", StringComparison.OrdinalIgnoreCase);
    }

    // The first part that does not parse on its own, named by its keyword (and value unless it is a secret).
    private static string? OffendingPart(string connectionString)
    {
        foreach (var part in connectionString.Split(','))
        {
            if (part.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                ConfigurationOptions.Parse(part);
            }
            catch (ArgumentException ex)
            {
                var equals = part.IndexOf('=');
                var shown = equals > 0 && IsSecret(part[..equals]) ? part[..(equals + 1)] + "***" : part.Trim();
                return $"'{shown}' ({ex.Message.Replace(part, shown, StringComparison.Ordinal)})";
            }
        }

        return null;
    }
}
