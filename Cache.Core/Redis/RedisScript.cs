using System.Security.Cryptography;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// A Lua script run with <see cref="RedisClient.EvalAsync"/>: sent by its SHA1 (<c>EVALSHA</c>), and in full
/// (<c>EVAL</c>) only when the server does not know it yet (<c>NOSCRIPT</c>). Create once and reuse.
/// </summary>
public sealed class RedisScript
{
    /// <summary>Creates a script and computes its SHA1.</summary>
    /// <param name="source">The Lua source.</param>
    /// <exception cref="ArgumentException">The source is null or blank.</exception>
    public RedisScript(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Source = source;
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
    }

    /// <summary>The Lua source.</summary>
    public string Source { get; }

    /// <summary>The SHA1 of the source, lower-case hex, as Redis names scripts.</summary>
    public string Sha1 { get; }
}
