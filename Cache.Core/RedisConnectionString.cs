using System.Net;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core;

/// <summary>
/// The rules the cache applies to a Redis connection string (StackExchange.Redis format), for an application that
/// hands the cache a multiplexer of its own making and wants the same check at start-up.
/// </summary>
public static class RedisConnectionString
{
    /// <summary>
    /// Parses a StackExchange.Redis connection string. A malformed one throws an <see cref="ArgumentException"/> that
    /// names the offending option and never echoes the string (a misspelt keyword may be the password's); one with
    /// no endpoint throws too.
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
            // never the string itself: a misspelt keyword may be the password's
            throw new ArgumentException($"The Redis connection string is invalid: {OffendingPart(connectionString) ?? "it does not parse"}.", nameof(connectionString), ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException("The Redis connection string names no endpoint (host:port).", nameof(connectionString));
        }

        return options;
    }

    /// <summary>host:port of an endpoint.</summary>
    internal static string Format(EndPoint? endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        IPEndPoint ip => ip.ToString(),
        null => "(none)",
        _ => endpoint.ToString() ?? "(unknown)",
    };

    // The first part that does not parse on its own: its keyword, and its value only when the keyword is one the
    // client knows and it is not a secret (an unknown keyword may be a misspelt "password").
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
                var keyword = equals > 0 ? part[..equals].Trim() : part.Trim();
                var known = !ex.Message.Contains("not supported", StringComparison.OrdinalIgnoreCase);
                var secret = keyword.Contains("password", StringComparison.OrdinalIgnoreCase) || keyword.Contains("pwd", StringComparison.OrdinalIgnoreCase)
                    || keyword.Contains("secret", StringComparison.OrdinalIgnoreCase);
                return known && !secret && equals > 0
                    ? $"'{part.Trim()}' ({ex.Message.Split(" (Parameter", 2)[0]})"
                    : $"the option '{keyword}' is not supported";
            }
        }

        return null;
    }
}
