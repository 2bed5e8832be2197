namespace OptimizedCache.Cache.Core.Redis;

/// <summary>A message received on a subscribed channel.</summary>
/// <remarks>
/// <see cref="Payload"/> is valid only while the handler runs: the client may reuse its memory afterwards.
/// A handler that keeps the payload must copy it (<c>message.Payload.ToArray()</c>).
/// </remarks>
public readonly struct RedisChannelMessage
{
    /// <summary>Creates a message.</summary>
    /// <param name="channel">The channel it was published on.</param>
    /// <param name="pattern">The pattern that matched, for pattern subscriptions; otherwise null.</param>
    /// <param name="payload">The message body.</param>
    public RedisChannelMessage(string channel, string? pattern, ReadOnlyMemory<byte> payload)
    {
        Channel = channel;
        Pattern = pattern;
        Payload = payload;
    }

    /// <summary>The channel the message was published on.</summary>
    public string Channel { get; }

    /// <summary>The pattern that matched (<c>PSUBSCRIBE</c>); null for a channel subscription.</summary>
    public string? Pattern { get; }

    /// <summary>The message body; valid only during the handler (copy it to keep it).</summary>
    public ReadOnlyMemory<byte> Payload { get; }
}
