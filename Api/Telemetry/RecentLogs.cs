using System.Collections.Concurrent;

namespace OptimizedCache.Api.Telemetry;

/// <summary>One log line kept for <c>/api/logs</c>.</summary>
/// <param name="At">When.</param>
/// <param name="Level">Severity.</param>
/// <param name="Category">Logger category.</param>
/// <param name="EventId">Event id.</param>
/// <param name="Message">The formatted message (truncated).</param>
[System.ComponentModel.ImmutableObject(true)]
public sealed record LogEntry(DateTimeOffset At, string Level, string Category, int EventId, string Message);

/// <summary>
/// The latest log lines at Information and above, in a fixed-size ring: what <c>/api/logs</c> serves.
/// Messages are the API's own (they never carry keys, values or secrets) and are truncated.
/// </summary>
public sealed class RecentLogs(TimeProvider timeProvider) : ILoggerProvider
{
    /// <summary>Lines kept.</summary>
    public const int Capacity = 500;

    private const int MaxMessageLength = 500;

    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>The latest lines, newest first.</summary>
    public IReadOnlyList<LogEntry> Latest(int count) => [.. _entries.Reverse().Take(count)];

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new RingLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        _entries.Enqueue(entry);
        while (_entries.Count > Capacity && _entries.TryDequeue(out _))
        {
        }
    }

    private sealed class RingLogger(RecentLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || !category.StartsWith("OptimizedCache", StringComparison.Ordinal))
            {
                return;
            }

            var message = formatter(state, exception);
            if (exception is not null)
            {
                message += " (" + exception.GetType().Name + ")";
            }

            if (message.Length > MaxMessageLength)
            {
                message = message[..MaxMessageLength];
            }

            owner.Add(new LogEntry(owner.TimeProviderNow(), logLevel.ToString(), category, eventId.Id, message));
        }
    }

    private DateTimeOffset TimeProviderNow() => timeProvider.GetUtcNow();
}
