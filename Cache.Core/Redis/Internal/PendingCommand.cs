using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>
/// A command waiting for its reply: a pooled <see cref="IValueTaskSource{TResult}"/>, so the hot path allocates no
/// promise per command.
/// </summary>
/// <remarks>
/// Two parties hold it: the connection (until the reply is read, or the connection fails) and the awaiting caller
/// (until it has taken the result). It goes back to the pool only when both have let go, so a timed-out or
/// cancelled command keeps its place in the FIFO and its late reply is read and dropped.
/// </remarks>
internal sealed class PendingCommand : IValueTaskSource<RedisReply>, IThreadPoolWorkItem
{
    private const int MaxPooled = 4096;
    private static readonly ConcurrentQueue<PendingCommand> Pool = new();
    private static int s_pooled;

    private static readonly Action<object?> CancelCallback = static state => ((PendingCommand)state!).TryCancel();

    private ManualResetValueTaskSourceCore<RedisReply> _core = new() { RunContinuationsAsynchronously = true };
    private int _completed;
    private int _holders;
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _token;
    private RedisReply _queuedReply;

    private PendingCommand()
    {
    }

    /// <summary>Whether a bulk-string reply goes into a pooled array (<see cref="RedisReply.TryTakeLease"/>).</summary>
    public bool PooledBulk { get; set; }

    /// <summary>The command's name, for timeout messages.</summary>
    public string Command { get; private set; } = string.Empty;

    /// <summary>When the command was written (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long SentAt { get; private set; }

    /// <summary>When the command times out (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Deadline { get; private set; }

    /// <summary>The timeout, for messages.</summary>
    public TimeSpan Timeout { get; private set; }

    /// <summary>Whether a result or an error has been set.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>The token for <see cref="ValueTask{TResult}"/>.</summary>
    public short Version => _core.Version;

    /// <summary>Takes a command from the pool, held by the connection and, when <paramref name="awaited"/>, by a caller.</summary>
    public static PendingCommand Rent(string command, long now, TimeSpan timeout, long deadline, bool awaited)
    {
        if (!Pool.TryDequeue(out var op))
        {
            op = new PendingCommand();
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }

        op.Command = command;
        op.SentAt = now;
        op.Timeout = timeout;
        op.Deadline = deadline;
        op._holders = awaited ? 2 : 1;
        return op;
    }

    /// <summary>Cancels the command (for the caller) when the token fires; the reply is still read and dropped.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        _token = cancellationToken;
        _cancellation = cancellationToken.UnsafeRegister(CancelCallback, this);
    }

    /// <summary>Completes the command with its reply; false when it was already completed (timed out, cancelled).</summary>
    /// <param name="reply">The reply.</param>
    /// <param name="runContinuationInline">
    /// Run the caller's continuation on this thread, inside this call, instead of queueing it to the thread pool.
    /// Only the read loop asks for it, and only once it no longer needs the thread (see PhysicalConnection).
    /// </param>
    public bool TrySetResult(RedisReply reply, bool runContinuationInline = false)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        // Only the winner of the exchange above writes the flag, and before the signal that reads it.
        _core.RunContinuationsAsynchronously = !runContinuationInline;
        _core.SetResult(reply);
        return true;
    }

    /// <summary>
    /// Completes the command with its reply on a thread-pool thread, queued behind the work already waiting there
    /// (the global queue, not this thread's own). The connection's hold passes to the queued completion, which lets
    /// go once the result is set. False (nothing queued, the hold not taken) when the command was already completed.
    /// </summary>
    public bool TryQueueResult(RedisReply reply)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _queuedReply = reply;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return true;
    }

    void IThreadPoolWorkItem.Execute()
    {
        var reply = _queuedReply;
        _queuedReply = default;
        _core.RunContinuationsAsynchronously = false;
        _core.SetResult(reply);
        Release(); // the connection's hold, handed over by TryQueueResult
    }

    /// <summary>Fails the command; false when it was already completed.</summary>
    public bool TrySetException(Exception exception)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _core.RunContinuationsAsynchronously = true;
        _core.SetException(exception);
        return true;
    }

    /// <summary>Returns a command that was never written (the connection was closed or full).</summary>
    public void ReturnUnused()
    {
        _holders = 1;
        Release();
    }

    /// <summary>The connection lets go: the reply was read, or will never come.</summary>
    public void ReleaseByConnection() => Release();

    /// <inheritdoc />
    public RedisReply GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void TryCancel() => TrySetException(new OperationCanceledException(_token));

    private void Release()
    {
        if (Interlocked.Decrement(ref _holders) != 0)
        {
            return;
        }

        // Unregister before reuse so a late cancellation cannot reach the next command using this object.
        _cancellation.Dispose();
        _cancellation = default;
        _token = default;
        _core.Reset();
        Volatile.Write(ref _completed, 0);
        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }
    }
}
