using System.Net;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>Describes a connection failure or restoration.</summary>
public sealed class RedisConnectionEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="endpoint">The endpoint concerned.</param>
    /// <param name="exception">Why the connection failed; null for a restoration.</param>
    /// <param name="state">The connection state after the event.</param>
    public RedisConnectionEventArgs(EndPoint endpoint, Exception? exception, RedisConnectionState state)
    {
        Endpoint = endpoint;
        Exception = exception;
        State = state;
    }

    /// <summary>The endpoint that failed or was (re)connected.</summary>
    public EndPoint Endpoint { get; }

    /// <summary>Why the connection failed; null when it was restored.</summary>
    public Exception? Exception { get; }

    /// <summary>The connection state after the event.</summary>
    public RedisConnectionState State { get; }
}
