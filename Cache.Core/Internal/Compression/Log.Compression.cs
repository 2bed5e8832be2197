using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Log messages of Cache.Core; this part holds the compression ones (event ids 4100–4199).</summary>
internal static partial class Log
{
    /// <summary>Event id of <see cref="CompressionCodecUnavailable"/>.</summary>
    public const int CompressionCodecUnavailableEventId = 4101;

    /// <summary>Event id of <see cref="CompressionCodecsAvailable"/>.</summary>
    public const int CompressionCodecsAvailableEventId = 4102;

    /// <summary>A codec's library is missing: it will not be chosen, and entries written with it elsewhere read as misses here.</summary>
    [LoggerMessage(EventId = CompressionCodecUnavailableEventId, Level = LogLevel.Warning,
        Message = "Compression codec {Codec} is unavailable on this machine ({Reason}); it will not be chosen, and entries compressed with it by other replicas are read here as misses")]
    public static partial void CompressionCodecUnavailable(ILogger logger, string codec, string reason);

    /// <summary>The codecs this process can use.</summary>
    [LoggerMessage(EventId = CompressionCodecsAvailableEventId, Level = LogLevel.Information,
        Message = "Compression codecs available: {Codecs}")]
    public static partial void CompressionCodecsAvailable(ILogger logger, string codecs);
}
