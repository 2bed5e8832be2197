namespace OptimizedCache.Api.Origin;

/// <summary>How the origin failed to answer.</summary>
public enum OriginFailure
{
    /// <summary>The origin answered 5xx.</summary>
    ServerError,

    /// <summary>The origin could not be reached or timed out.</summary>
    Unavailable,

    /// <summary>The origin answered 429 Too Many Requests.</summary>
    RateLimited,
}

/// <summary>The origin did not answer the request (5xx, unreachable, rate limited).</summary>
public sealed class StoreOriginException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreOriginException(OriginFailure failure, string message, TimeSpan? retryAfter = null)
        : this(failure, message, retryAfter, innerException: null)
    {
    }

    /// <summary>Creates the exception with the failure that caused it (a refused connection, a timeout).</summary>
    public StoreOriginException(OriginFailure failure, string message, TimeSpan? retryAfter, Exception? innerException)
        : base(message, innerException)
    {
        Failure = failure;
        RetryAfter = retryAfter;
    }

    /// <summary>How the origin failed.</summary>
    public OriginFailure Failure { get; }

    /// <summary>When the origin said to try again (rate limits).</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>The origin refused the request itself (unknown reference, not enough stock).</summary>
public sealed class StoreRejectedException : Exception
{
    /// <summary>Creates the exception with the HTTP status the API should answer.</summary>
    public StoreRejectedException(int statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status the API answers (400, 404, 409).</summary>
    public int StatusCode { get; }
}
