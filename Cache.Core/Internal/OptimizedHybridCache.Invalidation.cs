using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Internal.Invalidation;
using StackExchange.Redis;
using M = OptimizedCache.Cache.Core.OptimizedCacheMetrics;

namespace OptimizedCache.Cache.Core;

// Invalidation by key, tag, dependency and pattern; L1 coherence across replicas over {prefix}:invalidation; the
// outage queue. Every invalidation is applied to the local L1 at once, then to Redis (entries unlinked, tag times
// advanced) and published; what cannot reach Redis is queued and replayed in order when it is back.
public sealed partial class OptimizedHybridCache
{
    /// <summary>Keys unlinked per UNLINK, and the SCAN page-size hint of pattern invalidation.</summary>
    internal const int InvalidationBatchSize = 500;

    /// <summary>How many per-key removal times are kept to stop in-flight results of removed keys from being cached.</summary>
    internal const int MaximumKeyFences = 10_000;

    private static readonly TimeSpan ReplayRetryInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan SubscribeRetryInterval = TimeSpan.FromMilliseconds(250);

    private readonly Guid _instanceId = Guid.NewGuid();
    private readonly ConcurrentDictionary<string, long> _keyFences = new(StringComparer.Ordinal);
    // Set (for good) before the first key fence goes up, so that reads skip the dictionary until a key was removed:
    // its IsEmpty takes every lock of the dictionary when it is empty, on every L2 hit.
    private volatile bool _hasKeyFences;
    private readonly CancellationTokenSource _invalidationStopping = new();
    private DependencyRuleSet _dependencyRules = null!;
    private InvalidationOutbox _outbox = null!;
    private ResilientRedis? _bus;
    private string _scanPrefix = null!;
    private ChannelMessageQueue? _subscriptionQueue;
    private string _channel = null!;
    private long _storeFence = long.MinValue;
    private long _malformedMessages;
    private long _remoteInvalidations;
    private long _flushes;
    private long _primarySwitches;
    private int _replaying;
    private Task _subscription = Task.CompletedTask;

    /// <summary>This instance's id on the invalidation channel (random per cache instance).</summary>
    internal Guid InstanceId => _instanceId;

    /// <summary>Malformed messages received on the invalidation channel (counted and ignored).</summary>
    internal long MalformedInvalidationMessages => Interlocked.Read(ref _malformedMessages);

    /// <summary>Invalidation messages from other instances applied to this L1.</summary>
    internal long RemoteInvalidationsApplied => Interlocked.Read(ref _remoteInvalidations);

    /// <summary>Times L1 was flushed because invalidation messages may have been missed.</summary>
    internal long CoherenceFlushes => Interlocked.Read(ref _flushes);

    /// <summary>Invalidations waiting for Redis (items), and whether the queue overflowed since the last replay.</summary>
    internal InvalidationOutbox Outbox => _outbox;

    /// <summary>Completes once this instance listens on the invalidation channel (tests wait for it).</summary>
    internal Task Subscription => _subscription;

    /// <summary>
    /// Removes every entry whose key matches a Redis glob pattern (<c>*</c>, <c>?</c>, <c>[a-z]</c>, <c>[^…]</c>,
    /// <c>\</c> escapes) from this L1 and from Redis (SCAN MATCH and UNLINK in batches of 500), and has every other
    /// replica remove its matching L1 entries. A pattern that matches every key (<c>*</c>, <c>**</c>, <c>?*</c>) is
    /// refused: clearing everything is <see cref="ClearAsync"/>. The cost on Redis is a scan of the whole keyspace;
    /// prefer tags for invalidations made on every write.
    /// </summary>
    /// <param name="pattern">The glob pattern over cache keys (without the L2 key prefix), at most MaximumKeyLength characters.</param>
    /// <param name="cancellationToken">Cancels the L2 scan between batches; L1 has been invalidated already.</param>
    /// <returns>
    /// How many entries were removed from this L1 and from Redis. With Redis unavailable the L2 part is queued and
    /// replayed later, and its count is 0 here.
    /// </returns>
    /// <exception cref="ArgumentException">The pattern is null, empty, too long, has control characters, or matches everything.</exception>
    public async ValueTask<PatternInvalidationResult> InvalidateAsync(string pattern, CancellationToken cancellationToken = default)
    {
        var glob = CompilePattern(pattern);
        var start = _time.GetTimestamp();
        var local = InvalidatePatternLocally(glob, start, remote: false);
        var distributed = 0L;
        if (_bus is not null)
        {
            var pending = new PendingInvalidation(InvalidationKind.Pattern, [pattern], _time.GetUtcNow().UtcTicks);
            if (_outbox.IsEmpty)
            {
                var (done, unlinked) = await UnlinkPatternAsync(glob, cancellationToken).ConfigureAwait(false);
                distributed = unlinked;
                local += RemovePatternAgain(glob);
                if (done && await PublishAsync(pending, cancellationToken).ConfigureAwait(false))
                {
                    RecordDuration(Operation.InvalidateL1, start);
                    return new PatternInvalidationResult(local, distributed);
                }
            }

            Defer(pending);
        }

        RecordDuration(Operation.InvalidateL1, start);
        return new PatternInvalidationResult(local, distributed);
    }

    /// <summary>
    /// Invalidates every entry, on every replica and in Redis: the same as <c>RemoveByTagAsync("*")</c> (the
    /// <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/> convention). L1 is freed at once; Redis gets one
    /// global invalidation time (<c>{prefix}:tag:*</c>) against which older entries read as misses, so clearing costs
    /// O(1) on Redis however many entries there are (they expire by themselves).
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for Redis.</param>
    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => RemoveByTagAsync(TagInvalidationTable.Wildcard, cancellationToken);

    /// <summary>
    /// Says what changed, not what to delete: invalidates the tags the configured dependency rules
    /// (<see cref="OptimizedHybridCacheOptions.DependencyRules"/>) derive from a change to one entity, filling the
    /// <c>{id}</c> placeholder with <paramref name="id"/>.
    /// </summary>
    /// <param name="entityType">The entity type of a rule (<c>product</c>).</param>
    /// <param name="id">The changed entity's id.</param>
    /// <param name="cancellationToken">Cancels the wait for Redis.</param>
    /// <returns>The tags invalidated.</returns>
    /// <exception cref="ArgumentException">No rule for the type, a rule needing other placeholders, or a bad id.</exception>
    public ValueTask<IReadOnlyList<string>> InvalidateDependentsAsync(string entityType, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return InvalidateDependentsAsync(entityType, new Dictionary<string, IReadOnlyList<string>>(1) { [DependencyRuleSet.IdPlaceholder] = [id] }, cancellationToken);
    }

    /// <summary>
    /// Invalidates the tags the configured dependency rules derive from a change to one entity, each placeholder
    /// filled from <paramref name="values"/> (several values: one tag each; none: no tag from that template).
    /// </summary>
    /// <param name="entityType">The entity type of a rule (<c>product</c>).</param>
    /// <param name="values">Values of the rule's placeholders (<c>id</c> → <c>["42"]</c>, <c>collectionId</c> → <c>["1", "2"]</c>).</param>
    /// <param name="cancellationToken">Cancels the wait for Redis.</param>
    /// <returns>The tags invalidated.</returns>
    /// <exception cref="ArgumentException">No rule for the type, a placeholder without values, a bad value, or too many tags.</exception>
    public async ValueTask<IReadOnlyList<string>> InvalidateDependentsAsync(
        string entityType, IReadOnlyDictionary<string, IReadOnlyList<string>> values, CancellationToken cancellationToken = default)
    {
        var tags = GetDependentTags(entityType, values);
        await RemoveTagsAsync(tags, cancellationToken).ConfigureAwait(false);
        return tags;
    }

    /// <summary>The tags a change would invalidate under the configured dependency rules, without invalidating them.</summary>
    /// <param name="entityType">The entity type of a rule.</param>
    /// <param name="values">Values of the rule's placeholders.</param>
    /// <exception cref="ArgumentException">As for <see cref="InvalidateDependentsAsync(string, IReadOnlyDictionary{string, IReadOnlyList{string}}, CancellationToken)"/>.</exception>
    public IReadOnlyList<string> GetDependentTags(string entityType, IReadOnlyDictionary<string, IReadOnlyList<string>> values)
    {
        var tags = _dependencyRules.Expand(entityType, values, _maximumKeyLength);
        foreach (var tag in tags)
        {
            ValidateTag(tag, allowWildcard: false);
        }

        return tags;
    }

    /// <summary>
    /// Sets up dependency rules, the outage queue and, when <paramref name="redis"/> is given, the coherence channel:
    /// subscribes (retrying until Redis is reachable), flushes L1 whenever messages may have been missed, and replays
    /// queued invalidations on every reconnect. Called once by the constructor.
    /// </summary>
    /// <param name="redis">The L2 tier's resilient Redis connection (owned by the tier); null runs L1 only.</param>
    internal void InitializeInvalidation(ResilientRedis? redis)
    {
        _dependencyRules = DependencyRuleSet.Create(_options.DependencyRules);
        _outbox = new InvalidationOutbox(_options.InvalidationQueueCapacity);
        // the entries' keys, {prefix}:{bb}:{key}, whatever their bucket; tag-time and structure keys never match
        _scanPrefix = GlobPattern.Escape(_options.KeyPrefix) + ":{??}:";
        _channel = _options.KeyPrefix + ":invalidation";
        _bus = redis;
        if (redis is null)
        {
            return;
        }

        redis.ConnectionRestored += (_, _) =>
        {
            // commands were failing meanwhile: other replicas' invalidations may not have reached us, and ours are queued
            FlushForCoherence();
            ScheduleReplay();
        };
        redis.PrimaryChanged += (_, _) => _ = InvalidateBeforePrimaryChangeAsync();
        _subscription = SubscribeAsync(redis, _invalidationStopping.Token);
    }

    /// <summary>How many primary switches this instance answered with an invalidation of everything before it.</summary>
    internal long PrimarySwitches => Interlocked.Read(ref _primarySwitches);

    // A new primary may lack removals, tag times and tombstones the former one acknowledged: everything written
    // before now is invalidated (the "*" tag time, in L1, in Redis and on every replica), as ClearAsync does. Costly
    // (L2 goes cold) and rare; it is what keeps a lost removal from bringing a value back.
    private async Task InvalidateBeforePrimaryChangeAsync()
    {
        try
        {
            _logger.PrimaryChanged();
            await ClearAsync(_invalidationStopping.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _primarySwitches);
        }
        catch (OperationCanceledException) when (_invalidationStopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.InvalidationReplayFailed(ex);
        }
    }

    /// <summary>Stops the replay and subscription loops and leaves the channel (the L2 tier closes the connection if it owns it).</summary>
    private void DisposeInvalidation()
    {
        _invalidationStopping.Cancel();
        try
        {
            _subscriptionQueue?.Unsubscribe(CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            // the connection is gone, and the subscription with it
        }
    }

    private GlobPattern CompilePattern(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (string.IsNullOrWhiteSpace(pattern))
        {
            throw new ArgumentException("The pattern is empty or whitespace.", nameof(pattern));
        }

        if (pattern.Length > _maximumKeyLength)
        {
            throw new ArgumentException($"The pattern is {pattern.Length} characters long; the limit (MaximumKeyLength) is {_maximumKeyLength}.", nameof(pattern));
        }

        var index = pattern.AsSpan().IndexOfAny(ControlCharacters);
        if (index >= 0)
        {
            throw new ArgumentException($"The pattern contains the control character U+{(int)pattern[index]:X4} at index {index}.", nameof(pattern));
        }

        var glob = GlobPattern.Compile(pattern);
        if (glob.MatchesEverything)
        {
            throw new ArgumentException($"The pattern '{pattern}' matches every key; call ClearAsync() (or RemoveByTagAsync(\"*\")) to invalidate everything.", nameof(pattern));
        }

        return glob;
    }

    // ---- the public removal paths (RemoveAsync, RemoveByTagAsync) land here ----

    private async ValueTask RemoveKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        foreach (var key in keys)
        {
            RemoveKeyLocally(key, start);
        }

        _invalidations.Add(keys.Count, new(M.KindTag, "key"), new(M.SourceTag, "local"));
        RecordDuration(Operation.RemoveL1, start);
        if (_bus is not null && keys.Count > 0)
        {
            await DistributeAsync(new PendingInvalidation(InvalidationKind.Key, [.. keys], _time.GetUtcNow().UtcTicks), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask RemoveTagsAsync(IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        var all = false;
        foreach (var tag in tags)
        {
            all |= tag == TagInvalidationTable.Wildcard;
            InvalidateTagLocally(tag, start);
        }

        RecordDuration(Operation.InvalidateL1, start);
        if (_bus is null || tags.Count == 0)
        {
            return;
        }

        var utcTicks = _time.GetUtcNow().UtcTicks;
        if (all)
        {
            // everything is invalid: the other tags carry no further information
            await DistributeAsync(new PendingInvalidation(InvalidationKind.All, [], utcTicks), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await DistributeAsync(new PendingInvalidation(InvalidationKind.Tag, [.. tags], utcTicks), cancellationToken).ConfigureAwait(false);
        }
    }

    private void RemoveKeyLocally(string key, long now)
    {
        // a flight for this key that started before now must not cache its (possibly older) result. The fence goes
        // up before the removal: a flight writing L1 meanwhile either is removed here or sees the fence when it
        // re-checks after its write (UndoIfOvertaken)
        if (_keyFences.Count >= MaximumKeyFences)
        {
            // bounded: fold every key's fence into the global one (conservative: older flights of any key go uncached)
            AdvanceStoreFence(now);
            _keyFences.Clear();
        }

        _hasKeyFences = true;
        _keyFences.AddOrUpdate(key, static (_, next) => next, static (_, existing, next) => Math.Max(existing, next), now);
        _l1.Remove(key, EvictionReason.Removed);
    }

    private int InvalidatePatternLocally(GlobPattern glob, long now, bool remote)
    {
        AdvanceStoreFence(now);
        var removed = _l1.RemoveWhere(glob, static (g, entry) => entry.Key.StartsWith(g.LiteralPrefix, StringComparison.Ordinal) && g.IsMatch(entry.Key), EvictionReason.Removed);
        _invalidations.Add(1, new(M.KindTag, "pattern"), new(M.SourceTag, remote ? "remote" : "local"));
        return removed;
    }

    /// <summary>
    /// After the pattern's SCAN: an L2 read of this instance that ran between the local invalidation and the UNLINK
    /// may have put an old value back into L1, and this instance gets no message of its own: remove matches again.
    /// </summary>
    private int RemovePatternAgain(GlobPattern glob)
    {
        AdvanceStoreFence(_time.GetTimestamp());
        return _l1.RemoveWhere(glob, static (g, entry) => entry.Key.StartsWith(g.LiteralPrefix, StringComparison.Ordinal) && g.IsMatch(entry.Key), EvictionReason.Removed);
    }

    private void AdvanceStoreFence(long timestamp)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _storeFence);
            if (current >= timestamp)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _storeFence, timestamp, current) != current);
    }

    /// <summary>
    /// Whether this instance has seen, at or after <paramref name="since"/>, a removal of the key, a pattern
    /// invalidation or an L1 flush. Checked before a value obtained from a read that started at
    /// <paramref name="since"/> (a factory call, an L2 GET) is cached or served from L2, so an invalidation that
    /// overtakes a read in flight is not undone by it. Patterns and flushes are not matched per key: they void every
    /// read in flight at that moment (a few misses, never a stale value). Tags are checked separately, against the
    /// entry's creation time.
    /// </summary>
    internal bool IsInvalidatedSince(string key, long since) =>
        since <= Volatile.Read(ref _storeFence)
        || (_hasKeyFences && _keyFences.TryGetValue(key, out var removedAt) && since <= removedAt);

    // ---- Redis: apply, publish, queue, replay ----

    private async ValueTask DistributeAsync(PendingInvalidation pending, CancellationToken cancellationToken)
    {
        // Order matters (a key removed then re-invalidated by pattern...): while anything waits, queue behind it.
        if (_outbox.IsEmpty && await ApplyAsync(pending, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        Defer(pending);
    }

    private void Defer(PendingInvalidation pending)
    {
        if (!_outbox.Enqueue(pending) && _outbox.Overflows > Interlocked.Read(ref _reportedOverflows))
        {
            Interlocked.Exchange(ref _reportedOverflows, _outbox.Overflows);
            _logger.InvalidationQueueOverflowed(_options.InvalidationQueueCapacity);
        }

        ScheduleReplay();
    }

    private long _reportedOverflows;

    /// <summary>Applies one invalidation to Redis and publishes it; false when Redis was unavailable at any step.</summary>
    private async ValueTask<bool> ApplyAsync(PendingInvalidation pending, CancellationToken cancellationToken)
    {
        switch (pending.Kind)
        {
            case InvalidationKind.Overwrite:
                // the new value is in Redis already: the other replicas only need to hear of it
                break;
            case InvalidationKind.Key:
                // tombstones with the UNLINK (one script per batch): a replica whose read started before now and that
                // has not heard of this removal yet cannot write the old value back (the write is conditional)
                var removedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
                for (var i = 0; i < pending.Items.Length; i += InvalidationBatchSize)
                {
                    var batch = pending.Items.AsSpan(i, Math.Min(InvalidationBatchSize, pending.Items.Length - i)).ToArray();
                    if (!(await DistributedTier!.RemoveKeysAsync(batch, removedAt, cancellationToken).ConfigureAwait(false)).Ok)
                    {
                        return false;
                    }
                }

                // an L2 read of this instance between the local removal and the UNLINK may have put the old value
                // back into L1, and this instance gets no message of its own removal: remove it again
                var again = _time.GetTimestamp();
                foreach (var key in pending.Items)
                {
                    RemoveKeyLocally(key, again);
                }

                break;
            case InvalidationKind.Tag:
            case InvalidationKind.All:
                var unixMs = new DateTimeOffset(pending.UtcTicks, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var tags = pending.Kind == InvalidationKind.All ? [TagInvalidationTable.Wildcard] : pending.Items;
                var writes = new Task<bool>[tags.Length];
                for (var i = 0; i < tags.Length; i++)
                {
                    // through the tier, which also records the time in its copy of the tag times; pipelined: every
                    // tag time is on the wire before the first reply is awaited
                    writes[i] = _l2!.RemoveByTagAsync(tags[i], unixMs, cancellationToken).AsTask();
                }

                foreach (var ok in await Task.WhenAll(writes).ConfigureAwait(false))
                {
                    if (!ok)
                    {
                        return false;
                    }
                }

                break;
            case InvalidationKind.Pattern:
                var glob = GlobPattern.Compile(pending.Items[0]);
                if (!(await UnlinkPatternAsync(glob, cancellationToken).ConfigureAwait(false)).Done)
                {
                    return false;
                }

                RemovePatternAgain(glob);

                break;
        }

        return await PublishAsync(pending, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<bool> PublishAsync(PendingInvalidation pending, CancellationToken cancellationToken)
    {
        foreach (var message in InvalidationMessage.Encode(pending.Kind, _instanceId, pending.UtcTicks, pending.Items))
        {
            if (!(await _bus!.PublishAsync(_channel, message, cancellationToken).ConfigureAwait(false)).Ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Records the pattern in Redis (so that no replica writes a matching value read before now), then SCAN MATCH
    /// {prefix}:{bb}:{pattern} on every primary and UNLINK in batches; tag-time and structure keys are never touched.
    /// </summary>
    private async ValueTask<(bool Done, long Unlinked)> UnlinkPatternAsync(GlobPattern glob, CancellationToken cancellationToken)
    {
        var redis = _bus!;
        if (!await DistributedTier!.RecordPatternAsync(glob.Text, _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false))
        {
            return (false, 0);
        }

        var match = _scanPrefix + glob.Text;
        var unlinked = 0L;
        var batch = new List<string>(InvalidationBatchSize);
        var primaries = redis.Primaries();
        if (primaries.Length == 0)
        {
            return (false, 0);
        }

        foreach (var primary in primaries)
        {
            var cursor = 0L;
            do
            {
                var page = await redis.ScanPageAsync(primary, cursor, match, InvalidationBatchSize, cancellationToken).ConfigureAwait(false);
                if (!page.Ok)
                {
                    return (false, unlinked);
                }

                batch.AddRange(page.Value.Keys);
                if (batch.Count > 0 && (batch.Count >= InvalidationBatchSize || page.Value.Cursor == 0))
                {
                    var removed = await redis.UnlinkAsync([.. batch], cancellationToken).ConfigureAwait(false);
                    if (!removed.Ok)
                    {
                        return (false, unlinked);
                    }

                    unlinked += removed.Value;
                    batch.Clear();
                }

                cursor = page.Value.Cursor;
            }
            while (cursor != 0);
        }

        return (true, unlinked);
    }

    private void ScheduleReplay()
    {
        if (_bus is null || _outbox.IsEmpty || Interlocked.CompareExchange(ref _replaying, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(ReplayAsync);
    }

    /// <summary>Replays queued invalidations in order, waiting out the outage; one loop at a time.</summary>
    private async Task ReplayAsync()
    {
        var token = _invalidationStopping.Token;
        try
        {
            var replayed = 0;
            while (!token.IsCancellationRequested && _outbox.TryPeek(out var next))
            {
                if (_bus!.IsAvailable && await ApplyAsync(next!, token).ConfigureAwait(false))
                {
                    _outbox.Complete(next!);
                    replayed++;
                    continue;
                }

                // timing is the network's, not the cache's logical clock (a manual test clock must not stall this)
                await Task.Delay(ReplayRetryInterval, TimeProvider.System, token).ConfigureAwait(false);
            }

            if (replayed > 0)
            {
                _logger.InvalidationsReplayed(replayed);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.InvalidationReplayFailed(ex);
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
        }

        // something queued after the last peek and before the flag was cleared would otherwise wait for the next outage
        if (!token.IsCancellationRequested && !_outbox.IsEmpty)
        {
            ScheduleReplay();
        }
    }

    // ---- the coherence channel ----

    private async Task SubscribeAsync(ResilientRedis redis, CancellationToken stopping)
    {
        try
        {
            var multiplexer = await redis.Connection.WaitAsync(stopping).ConfigureAwait(false);
            if (multiplexer is null)
            {
                return;
            }

            // The multiplexer re-subscribes after a reconnect by itself; messages published meanwhile are lost, which
            // the ConnectionRestored handler answers with a flush.
            var attempts = 0;
            while (true)
            {
                try
                {
                    var queue = await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(_channel)).ConfigureAwait(false);
                    queue.OnMessage(OnInvalidationMessage); // one at a time, in order
                    _subscriptionQueue = queue;
                    break;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    if (attempts++ == 0)
                    {
                        _logger.InvalidationSubscribeFailed(ex.GetType().Name);
                    }

                    await Task.Delay(SubscribeRetryInterval, TimeProvider.System, stopping).ConfigureAwait(false);
                }
            }

            if (attempts > 0)
            {
                // L1 may have been filled while nothing was listening
                FlushForCoherence();
            }

            ScheduleReplay(); // invalidations made before the connection existed wait in the outbox
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Invalidation messages may have been missed (the subscription or the connection was lost): flush L1 rather than
    /// revalidate it. Every L1 entry created up to now is dropped and reads in flight do not cache, so the next reads
    /// go to L2, whose entries are checked against the tag times in Redis (re-read within TagTimeRefreshInterval),
    /// or to the origin. L2 itself stays trusted: removals and patterns missed meanwhile were applied to Redis by
    /// their sender (or are queued there until Redis is back).
    /// </summary>
    private void FlushForCoherence()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        AdvanceStoreFence(now);
        var removed = _l1.RemoveWhere(now, static (t, entry) => entry.CreatedAt <= t, EvictionReason.Removed);
        Interlocked.Increment(ref _flushes);
        _invalidations.Add(1, new(M.KindTag, "all"), new(M.SourceTag, "remote"));
        _logger.CoherenceFlush(removed);
    }

    /// <summary>Runs on the subscription's reader, in order: quick, never throws.</summary>
    private void OnInvalidationMessage(ChannelMessage message)
    {
        try
        {
            var payload = (ReadOnlyMemory<byte>)message.Message;
            if (!InvalidationMessage.TryDecode(payload.Span, out var decoded))
            {
                Interlocked.Increment(ref _malformedMessages);
                _logger.MalformedInvalidationMessage(payload.Length);
                return;
            }

            if (decoded!.Sender == _instanceId)
            {
                return;
            }

            ApplyRemote(decoded);
            Interlocked.Increment(ref _remoteInvalidations);
        }
        catch (Exception ex)
        {
            _logger.InvalidationMessageFailed(ex);
        }
    }

    // Applied at the time of receipt (this process' clock): everything cached here before the message arrived is
    // covered, whatever the clocks of the two machines say.
    private void ApplyRemote(InvalidationMessage message)
    {
        var now = _time.GetTimestamp();
        switch (message.Kind)
        {
            case InvalidationKind.Key:
                foreach (var key in message.Items)
                {
                    RemoveKeyLocally(key, now);
                }

                _invalidations.Add(message.Items.Length, new(M.KindTag, "key"), new(M.SourceTag, "remote"));
                break;
            case InvalidationKind.Overwrite:
                // Only a read that started before the new value reached Redis can have fetched the previous one; a
                // read that started later (already on this replica's clock when the message arrives late) keeps its
                // result. The sender's clock is trusted to within the skew, as for tag times; a sender ahead of this
                // clock only makes the fence reach now (a miss, never a stale value).
                var sinceWrite = Math.Max(0, _time.GetUtcNow().UtcTicks - message.UtcTicks);
                var writtenAt = now - (long)(sinceWrite * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);
                foreach (var key in message.Items)
                {
                    RemoveKeyLocally(key, writtenAt);
                }

                _invalidations.Add(message.Items.Length, new(M.KindTag, "key"), new(M.SourceTag, "remote"));
                break;
            case InvalidationKind.Tag:
                var unixMs = new DateTimeOffset(message.UtcTicks, TimeSpan.Zero).ToUnixTimeMilliseconds();
                foreach (var tag in message.Items)
                {
                    _tags.Invalidate(tag, now);
                    ApplyRemoteTagInvalidation(tag, unixMs);
                }

                _invalidations.Add(message.Items.Length, new(M.KindTag, "tag"), new(M.SourceTag, "remote"));
                break;
            case InvalidationKind.Pattern:
                if (message.Items[0].Length <= _maximumKeyLength)
                {
                    InvalidatePatternLocally(GlobPattern.Compile(message.Items[0]), now, remote: true);
                }
                else
                {
                    Interlocked.Increment(ref _malformedMessages);
                }

                break;
            case InvalidationKind.All:
                _tags.Invalidate(TagInvalidationTable.Wildcard, now);
                ApplyRemoteTagInvalidation(TagInvalidationTable.Wildcard, new DateTimeOffset(message.UtcTicks, TimeSpan.Zero).ToUnixTimeMilliseconds());
                AdvanceStoreFence(now);
                _l1.RemoveWhere(now, static (t, entry) => entry.CreatedAt <= t, EvictionReason.Removed);
                _invalidations.Add(1, new(M.KindTag, "all"), new(M.SourceTag, "remote"));
                break;
        }
    }

    // ---- SetAsync: other replicas drop their L1 copy of an overwritten key ----

    /// <summary>
    /// After <see cref="SetAsync"/> has written L2, tells the other replicas to drop their L1 copy of the key, so
    /// their next read finds the new value in L2 instead of serving the one they held. Publish only: the new value
    /// stays in Redis. When the publish cannot be made (Redis unavailable, or earlier invalidations still queued),
    /// it waits in the outbox and is published on replay; replicas whose subscription dropped meanwhile flush L1.
    /// </summary>
    private async ValueTask AnnounceOverwriteAsync(ValueTask write, string key, CancellationToken cancellationToken)
    {
        await write.ConfigureAwait(false);
        var pending = new PendingInvalidation(InvalidationKind.Overwrite, [key], _time.GetUtcNow().UtcTicks);
        if (!_outbox.IsEmpty || !await PublishAsync(pending, cancellationToken).ConfigureAwait(false))
        {
            Defer(pending);
        }
    }
}
