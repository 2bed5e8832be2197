namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// The server sent something that is not valid RESP2, or a reply larger than
/// <see cref="RedisConnectionOptions.MaxReplyBytes"/>. The connection is reset and reconnected.
/// </summary>
public sealed class RedisProtocolException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisProtocolException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was wrong with the reply.</param>
    public RedisProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What was wrong with the reply.</param>
    /// <param name="innerException">The cause.</param>
    public RedisProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
