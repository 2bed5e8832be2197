namespace OptimizedCache.Cache.Core.Redis;

/// <summary>The base of every error the Redis client raises. Messages never contain the password.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public RedisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public RedisException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
