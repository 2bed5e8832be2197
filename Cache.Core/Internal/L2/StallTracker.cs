namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Measures, in time rather than in calls, how long Redis has answered nothing within the breaker's sampling window.
/// </summary>
/// <remarks>
/// <para>The cache talks to Redis over one multiplexed connection whose replies come back in order, so a command that
/// times out means nothing came back for the whole timeout: every command queued behind it waited too. A timeout is
/// therefore evidence that the connection was silent over <c>[now − timeout, now]</c>; so is a reply that took at least
/// half the timeout, over its own wait (the calls queued late in a pause are answered when it ends, slowly but before
/// their deadline). Those intervals are merged and summed over the window; when the silence reaches
/// <c>FailureRatio</c> of the window, Redis is stalled.</para>
/// <para>Counting calls cannot see this: a stalled connection carries a handful of calls (one per waiting caller) while
/// the moments between pauses carry hundreds, so a Redis paused 75% of the time failed under 20% of the calls in the
/// verification drill and the breaker's call ratio never reached 0.5. One stall shorter than the threshold (a slow
/// command, a brief pause) does not trip it; stalls that add up to the threshold within the window do.</para>
/// <para>Bounded: intervals are disjoint and each new one is at least half a timeout long, so at most
/// <c>2 × window / timeout + 1</c> are kept.</para>
/// </remarks>
internal sealed class StallTracker
{
    private readonly Lock _lock = new();
    private readonly Queue<Silence> _silences = new(); // closed silences, disjoint, each at least a timeout long
    private Silence _current; // the latest silence, still extended by the timeouts that follow it
    private bool _hasCurrent;
    private long _closedUntil = long.MinValue; // end of the latest closed silence
    private readonly TimeProvider _clock;
    private readonly long _timeoutTicks;
    private readonly long _windowTicks;
    private readonly long _thresholdTicks;

    /// <summary>Creates a tracker.</summary>
    /// <param name="timeout">The per-call timeout: each timeout stands for this much silence.</param>
    /// <param name="window">The breaker's sampling duration.</param>
    /// <param name="ratio">The share of the window that must be silent.</param>
    /// <param name="clock">The system clock (network timing).</param>
    public StallTracker(TimeSpan timeout, TimeSpan window, double ratio, TimeProvider clock)
    {
        _clock = clock;
        Window = window;
        _timeoutTicks = ToTicks(timeout);
        _windowTicks = ToTicks(window);
        _thresholdTicks = (long)(_windowTicks * ratio);
    }

    /// <summary>The sampling window.</summary>
    public TimeSpan Window { get; }

    /// <summary>Silence currently counted within the window (for tests and diagnostics).</summary>
    public TimeSpan SilenceInWindow
    {
        get
        {
            lock (_lock)
            {
                return TimeSpan.FromSeconds((double)Sum(_clock.GetTimestamp()) / _clock.TimestampFrequency);
            }
        }
    }

    /// <summary>Records a timed-out call (now); true when the silence within the window has reached the threshold.</summary>
    public bool RecordTimeout() => RecordSilence(_timeoutTicks);

    /// <summary>
    /// Records a call answered after <paramref name="elapsedTicks"/> (system-clock ticks): when that is at least half the
    /// timeout, nothing came back for that long (replies are in order), which counts as silence like a timeout. True when
    /// the silence within the window has reached the threshold.
    /// </summary>
    public bool RecordAnswer(long elapsedTicks) => elapsedTicks >= _timeoutTicks / 2 && RecordSilence(Math.Min(elapsedTicks, _timeoutTicks));

    private bool RecordSilence(long silentTicks)
    {
        var now = _clock.GetTimestamp();
        lock (_lock)
        {
            var start = now - silentTicks;
            if (_hasCurrent && start <= _current.End)
            {
                // the calls of one stall end one after another: they extend the same silence
                _current.Start = Math.Min(_current.Start, Math.Max(start, _closedUntil)); // never over a closed silence
                _current.End = Math.Max(_current.End, now);
            }
            else
            {
                if (_hasCurrent)
                {
                    _silences.Enqueue(_current);
                    _closedUntil = _current.End;
                }

                _current = new Silence(Math.Max(start, _closedUntil), now);
                _hasCurrent = true;
            }

            return Sum(now) >= _thresholdTicks;
        }
    }

    /// <summary>Forgets the silences (the circuit opened: what follows is judged afresh).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _silences.Clear();
            _hasCurrent = false;
            _closedUntil = long.MinValue;
        }
    }

    private long Sum(long now)
    {
        var from = now - _windowTicks;
        while (_silences.Count > 0 && _silences.Peek().End <= from)
        {
            _silences.Dequeue();
        }

        long total = 0;
        foreach (var silence in _silences)
        {
            total += silence.End - Math.Max(silence.Start, from);
        }

        if (_hasCurrent && _current.End > from)
        {
            total += _current.End - Math.Max(_current.Start, from);
        }

        return total;
    }

    private struct Silence(long start, long end)
    {
        public long Start = start;
        public long End = end;
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);
}
