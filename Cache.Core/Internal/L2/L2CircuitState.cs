namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The state of the L2 circuit breaker; the numbers are the values of <c>optimizedcache.l2.circuit.state</c>.</summary>
internal enum L2CircuitState
{
    /// <summary>L2 calls go to Redis.</summary>
    Closed = 0,

    /// <summary>One probe call goes to Redis; the others are refused until it succeeds (closed) or fails (open).</summary>
    HalfOpen = 1,

    /// <summary>L2 calls are refused at once ("unavailable") until the break ends or the connection is restored.</summary>
    Open = 2,
}
