using System.Net;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// The command could not be sent or answered because of the connection: not connected (yet or any more),
/// the connection was lost while the command waited, or connecting failed (refused, TLS, authentication).
/// </summary>
public sealed class RedisConnectionException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public RedisConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the connection's details.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="endpoint">The endpoint concerned.</param>
    /// <param name="state">The connection state.</param>
    /// <param name="disconnectedFor">How long the connection has been down, when it is.</param>
    /// <param name="innerException">The cause.</param>
    public RedisConnectionException(string message, EndPoint? endpoint, RedisConnectionState state, TimeSpan? disconnectedFor, Exception? innerException = null)
        : base(message, innerException)
    {
        Endpoint = endpoint;
        State = state;
        DisconnectedFor = disconnectedFor;
    }

    /// <summary>The endpoint concerned, when known.</summary>
    public EndPoint? Endpoint { get; }

    /// <summary>The connection state when the error was raised.</summary>
    public RedisConnectionState State { get; } = RedisConnectionState.Disconnected;

    /// <summary>How long the connection had been down, when it was.</summary>
    public TimeSpan? DisconnectedFor { get; }
}
