namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The outcome of one L2 call through <see cref="ResilientRedis"/>: the value, or "unavailable" (not connected,
/// circuit open, timed out or failed — already counted and logged). Callers treat unavailable as a miss or a
/// skipped write; it is never an exception.
/// </summary>
/// <typeparam name="T">The call's result.</typeparam>
internal readonly struct L2Result<T>
{
    /// <summary>A successful call's result.</summary>
    public L2Result(T value)
    {
        Value = value;
        Ok = true;
    }

    /// <summary>The call did not reach Redis or did not succeed.</summary>
    public static L2Result<T> Unavailable => default;

    /// <summary>Whether the call succeeded (then <see cref="Value"/> is its result).</summary>
    public bool Ok { get; }

    /// <summary>The result; default when not <see cref="Ok"/>.</summary>
    public T Value { get; }
}
