namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// A command's reply did not arrive within <see cref="RedisConnectionOptions.AsyncTimeout"/>. The command may still
/// run on the server; its reply is read and discarded when it comes, so later commands keep their own replies.
/// </summary>
public sealed class RedisTimeoutException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What timed out.</param>
    public RedisTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What timed out.</param>
    /// <param name="innerException">The cause.</param>
    public RedisTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a command.</summary>
    /// <param name="command">The command name.</param>
    /// <param name="timeout">The timeout it exceeded.</param>
    /// <param name="detail">Context: endpoint and queue length.</param>
    public RedisTimeoutException(string command, TimeSpan timeout, string detail)
        : base($"{command} timed out after {timeout.TotalMilliseconds:0} ms ({detail}); its reply will be discarded when it arrives.")
    {
        Command = command;
        Timeout = timeout;
    }

    /// <summary>The command that timed out.</summary>
    public string? Command { get; }

    /// <summary>The timeout that was exceeded.</summary>
    public TimeSpan Timeout { get; }
}
