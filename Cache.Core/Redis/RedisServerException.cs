namespace OptimizedCache.Cache.Core.Redis;

/// <summary>The server answered with an error (<c>WRONGTYPE</c>, <c>NOPERM</c>, <c>ERR …</c>).</summary>
public sealed class RedisServerException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisServerException()
    {
    }

    /// <summary>Creates the exception with the server's error text.</summary>
    /// <param name="message">The server's error text.</param>
    public RedisServerException(string message)
        : base(message)
    {
        ServerMessage = message;
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public RedisServerException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ServerMessage = message;
    }

    /// <summary>Creates the exception for a command's error reply.</summary>
    /// <param name="command">The command that failed.</param>
    /// <param name="serverMessage">The server's error text.</param>
    public RedisServerException(string command, string serverMessage)
        : base($"{command}: {serverMessage}")
    {
        Command = command;
        ServerMessage = serverMessage;
    }

    /// <summary>The command that failed, when known.</summary>
    public string? Command { get; }

    /// <summary>The server's error text, e.g. <c>WRONGTYPE Operation against a key holding the wrong kind of value</c>.</summary>
    public string ServerMessage { get; } = string.Empty;

    /// <summary>The error's prefix (<c>ERR</c>, <c>WRONGTYPE</c>, <c>NOPERM</c>, <c>NOSCRIPT</c>…).</summary>
    public string ErrorCode
    {
        get
        {
            var space = ServerMessage.IndexOf(' ', StringComparison.Ordinal);
            return space < 0 ? ServerMessage : ServerMessage[..space];
        }
    }
}
