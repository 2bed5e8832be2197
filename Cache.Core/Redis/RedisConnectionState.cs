namespace OptimizedCache.Cache.Core.Redis;

/// <summary>The state of a <see cref="RedisClient"/>'s (or <see cref="RedisSubscriber"/>'s) connection.</summary>
public enum RedisConnectionState
{
    /// <summary>The first connection is being made.</summary>
    Connecting,

    /// <summary>Connected and handshaken; commands are sent.</summary>
    Connected,

    /// <summary>The connection was lost (or never made); commands fail at once while reconnect attempts run.</summary>
    Disconnected,

    /// <summary>The client was disposed; commands fail with <see cref="ObjectDisposedException"/>.</summary>
    Disposed,
}
