using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using OptimizedCache.Cache.Core.Redis.Internal;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>The typed commands.</summary>
public sealed partial class RedisClient
{
    /// <summary>Round-trips a PING.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The round-trip time.</returns>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        (await SendAsync(RedisCommands.Ping, [], cancellationToken).ConfigureAwait(false)).ThrowIfError("PING");
        return _time.GetElapsedTime(started);
    }

    /// <summary>GET: the value's bytes, or null when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="RedisServerException">The key holds another type (WRONGTYPE) or the user may not read it (NOPERM).</exception>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ReadGetReply(await SendAsync(RedisCommands.Get, [key], cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// GET as the pooled pending reply, with no state machine of its own: for a caller on a hot path that awaits the
    /// reply in its own state machine and reads it with <see cref="ReadGetReply"/> (or, with
    /// <paramref name="pooledBulk"/>, checks it with <see cref="RedisReply.ThrowIfError"/> and takes the value's lease). Throws at once, as
    /// <see cref="SendAsync"/> does, when there is no live connection or too many commands wait.
    /// </summary>
    /// <param name="keyPrefix">UTF-8 bytes sent in front of <paramref name="key"/> as part of the same key (empty for none).</param>
    /// <param name="key">The key (after the prefix).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="pooledBulk">
    /// The value is read into an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>: take it with
    /// <see cref="RedisReply.TryTakeLease"/> and return it when done with the bytes (a reply whose lease is not taken
    /// is merely collected).
    /// </param>
    internal ValueTask<RedisReply> SendGetAsync(ReadOnlyMemory<byte> keyPrefix, string key, CancellationToken cancellationToken, bool pooledBulk = false) =>
        SendAsync(RedisCommands.Get, [RedisArg.Prefixed(keyPrefix, key)], cancellationToken, pooledBulk);

    /// <summary>The value of a GET reply, as <see cref="GetAsync"/> returns it (an error reply throws <see cref="RedisServerException"/>).</summary>
    internal static byte[]? ReadGetReply(RedisReply reply) => reply.ThrowIfError("GET").AsBytes();

    /// <summary>GET, decoded as UTF-8; null when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<string?> GetStringAsync(string key, CancellationToken cancellationToken = default)
    {
        var bytes = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>SET with optional PX expiry, NX/XX condition and KEEPTTL.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expiry">The time to live (at least 1 ms); none when null.</param>
    /// <param name="condition">NX, XX or always.</param>
    /// <param name="keepTtl">Keep the key's current time to live (KEEPTTL); not with <paramref name="expiry"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when written; false when the NX/XX condition was not met.</returns>
    /// <exception cref="ArgumentException">Both an expiry and <paramref name="keepTtl"/>, or an expiry under 1 ms.</exception>
    public async Task<bool> SetAsync(
        string key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, bool keepTtl = false, CancellationToken cancellationToken = default)
    {
        var reply = await SendSet(key, value, expiry, condition, keepTtl, get: false, cancellationToken).ConfigureAwait(false);
        return !reply.ThrowIfError("SET").IsNull;
    }

    /// <summary>SET of a UTF-8 string (encoded straight into the output buffer).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expiry">The time to live (at least 1 ms); none when null.</param>
    /// <param name="condition">NX, XX or always.</param>
    /// <param name="keepTtl">Keep the key's current time to live (KEEPTTL); not with <paramref name="expiry"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when written; false when the NX/XX condition was not met.</returns>
    public async Task<bool> SetAsync(
        string key, string value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, bool keepTtl = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var reply = await SendSet(key, value, expiry, condition, keepTtl, get: false, cancellationToken).ConfigureAwait(false);
        return !reply.ThrowIfError("SET").IsNull;
    }

    /// <summary>SET … GET: writes the value (subject to the condition) and returns the previous one.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expiry">The time to live (at least 1 ms); none when null.</param>
    /// <param name="condition">NX, XX or always.</param>
    /// <param name="keepTtl">Keep the key's current time to live.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The previous value, or null when the key did not exist.</returns>
    /// <exception cref="RedisServerException">The previous value is not a string (WRONGTYPE); nothing was written.</exception>
    public async Task<byte[]?> SetAndGetAsync(
        string key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, bool keepTtl = false, CancellationToken cancellationToken = default)
    {
        var reply = await SendSet(key, value, expiry, condition, keepTtl, get: true, cancellationToken).ConfigureAwait(false);
        return reply.ThrowIfError("SET").AsBytes();
    }

    /// <summary>MGET: one entry per key, null where the key does not exist (or is not a string).</summary>
    /// <param name="keys">At least one key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<byte[]?[]> MGetAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        var reply = await SendKeys(RedisCommands.MGet, keys, cancellationToken).ConfigureAwait(false);
        var elements = reply.ThrowIfError("MGET").Elements;
        var values = new byte[]?[elements.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = elements[i].AsBytes();
        }

        return values;
    }

    /// <summary>DEL: removes keys, blocking the server while it frees them.</summary>
    /// <param name="keys">At least one key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many keys existed.</returns>
    public async Task<long> DelAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        (await SendKeys(RedisCommands.Del, keys, cancellationToken).ConfigureAwait(false)).ThrowIfError("DEL").AsInt64();

    /// <summary>UNLINK: removes keys and frees their memory in the background.</summary>
    /// <param name="keys">At least one key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many keys existed.</returns>
    public async Task<long> UnlinkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        (await SendKeys(RedisCommands.Unlink, keys, cancellationToken).ConfigureAwait(false)).ThrowIfError("UNLINK").AsInt64();

    /// <summary>EXISTS: how many of the keys exist (a key given twice counts twice).</summary>
    /// <param name="keys">At least one key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<long> ExistsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        (await SendKeys(RedisCommands.Exists, keys, cancellationToken).ConfigureAwait(false)).ThrowIfError("EXISTS").AsInt64();

    /// <summary>PEXPIRE: sets a key's time to live.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ttl">At least 1 ms.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when set; false when the key does not exist.</returns>
    public async Task<bool> PExpireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var ms = ToMilliseconds(ttl, nameof(ttl));
        var reply = await SendAsync(RedisCommands.PExpire, [key, ms], cancellationToken).ConfigureAwait(false);
        return reply.ThrowIfError("PEXPIRE").AsInt64() == 1;
    }

    /// <summary>PTTL: a key's remaining time to live.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The remaining time; null both when the key does not exist (-2) and when it has no expiry (-1).
    /// Tell the two apart with <see cref="ExistsAsync"/>.</returns>
    public async Task<TimeSpan?> PTtlAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var ms = (await SendAsync(RedisCommands.PTtl, [key], cancellationToken).ConfigureAwait(false)).ThrowIfError("PTTL").AsInt64();
        return ms < 0 ? null : TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>INCR: adds one to an integer value (a missing key counts as 0).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The new value.</returns>
    public async Task<long> IncrAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (await SendAsync(RedisCommands.Incr, [key], cancellationToken).ConfigureAwait(false)).ThrowIfError("INCR").AsInt64();
    }

    /// <summary>
    /// SCAN over the whole keyspace of the selected database, page by page (one round trip per page). Keys that exist
    /// for the whole scan are returned at least once; a key may be returned more than once (SCAN's guarantee).
    /// </summary>
    /// <param name="match">A glob pattern (MATCH); all keys when null.</param>
    /// <param name="count">The page-size hint (COUNT), at least 1.</param>
    /// <param name="cancellationToken">Stops the scan.</param>
    public async IAsyncEnumerable<string> ScanAsync(string? match = null, int count = 250, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        RedisArg cursor = RedisCommands.ZeroCursor;
        while (true)
        {
            var reply = match is null
                ? await SendAsync(RedisCommands.Scan, [cursor, RedisCommands.Count, count], cancellationToken).ConfigureAwait(false)
                : await SendAsync(RedisCommands.Scan, [cursor, RedisCommands.Match, match, RedisCommands.Count, count], cancellationToken).ConfigureAwait(false);
            var page = reply.ThrowIfError("SCAN").Elements;
            if (page.Count != 2)
            {
                throw new RedisProtocolException($"SCAN returned {page.Count} elements instead of 2.");
            }

            foreach (var key in page[1].Elements)
            {
                yield return key.AsString()!;
            }

            var next = page[0].AsBytes()!;
            if (next.AsSpan().SequenceEqual("0"u8))
            {
                yield break;
            }

            cursor = next;
        }
    }

    /// <summary>PUBLISH a message on a channel.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="message">The payload.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many subscribers received it.</returns>
    public async Task<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return (await SendAsync(RedisCommands.Publish, [channel, message], cancellationToken).ConfigureAwait(false)).ThrowIfError("PUBLISH").AsInt64();
    }

    /// <summary>Runs a Lua script: EVALSHA, and EVAL when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).</summary>
    /// <param name="script">The script.</param>
    /// <param name="keys">KEYS[1..n].</param>
    /// <param name="args">ARGV[1..n].</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The script's result (nested errors stay as <see cref="RedisReplyKind.Error"/> elements).</returns>
    /// <exception cref="RedisServerException">The script failed.</exception>
    public async Task<RedisReply> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(args);
        var reply = await SendScript(RedisCommands.EvalSha, script.Sha1, keys, args, cancellationToken).ConfigureAwait(false);
        if (reply.IsError && reply.ErrorMessage!.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            reply = await SendScript(RedisCommands.Eval, script.Source, keys, args, cancellationToken).ConfigureAwait(false);
        }

        return reply.ThrowIfError("EVALSHA");
    }

    /// <summary>INFO: the server's report, for one section or the default set.</summary>
    /// <param name="section">For example <c>server</c>, <c>memory</c>, <c>stats</c>; the default set when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<string> InfoAsync(string? section = null, CancellationToken cancellationToken = default)
    {
        var reply = section is null
            ? await SendAsync(RedisCommands.Info, [], cancellationToken).ConfigureAwait(false)
            : await SendAsync(RedisCommands.Info, [section], cancellationToken).ConfigureAwait(false);
        return reply.ThrowIfError("INFO").AsString() ?? string.Empty;
    }

    /// <summary>
    /// Runs any command on the shared connection. Commands that would change the state every caller shares
    /// (SELECT, AUTH, HELLO, SUBSCRIBE, MONITOR, MULTI/EXEC, CLIENT REPLY, QUIT…) are refused. A blocking command
    /// (BLPOP…) holds up every caller behind it until it returns or times out.
    /// </summary>
    /// <param name="command">The command name, e.g. <c>HSET</c>.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply (nested errors stay as <see cref="RedisReplyKind.Error"/> elements).</returns>
    /// <exception cref="ArgumentException">The command is empty, has spaces, or is refused on a shared connection.</exception>
    /// <exception cref="RedisServerException">The server answered with an error.</exception>
    public async Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentNullException.ThrowIfNull(args);
        if (command.Any(c => c <= ' ' || c > '~'))
        {
            throw new ArgumentException($"The command name '{command}' must be one printable ASCII word; give its arguments in args.", nameof(command));
        }

        if (RedisCommands.RefusedOnSharedConnection.Contains(command)
            || (command.Equals("CLIENT", StringComparison.OrdinalIgnoreCase) && args.Count > 0
                && args[0].Kind == RedisArgKind.String && args[0].String.Equals("REPLY", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException(
                $"The command '{command}' would change the state of the connection all callers share; use the typed API (Subscriber for pub/sub, defaultDatabase= for SELECT).",
                nameof(command));
        }

        var name = new CommandName(command.ToUpperInvariant());
        var rented = ArrayPool<RedisArg>.Shared.Rent(Math.Max(1, args.Count));
        ValueTask<RedisReply> pending;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                rented[i] = args[i];
            }

            pending = SendAsync(name, rented.AsSpan(0, args.Count), cancellationToken);
        }
        finally
        {
            ArrayPool<RedisArg>.Shared.Return(rented, clearArray: true);
        }

        return (await pending.ConfigureAwait(false)).ThrowIfError(name.Name);
    }

    private static long ToMilliseconds(TimeSpan value, string name)
    {
        var ms = (long)value.TotalMilliseconds;
        if (ms < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1 ms; it is {value}.");
        }

        return ms;
    }

    private ValueTask<RedisReply> SendSet(
        string key, RedisArg value, TimeSpan? expiry, SetCondition condition, bool keepTtl, bool get, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (expiry is not null && keepTtl)
        {
            throw new ArgumentException("SET takes either an expiry or keepTtl, not both.", nameof(keepTtl));
        }

        if (!Enum.IsDefined(condition))
        {
            throw new ArgumentOutOfRangeException(nameof(condition), condition, $"Unknown SetCondition {condition}.");
        }

        if (expiry is null && condition == SetCondition.Always && !keepTtl && !get)
        {
            // The hot path: SET key value.
            return SendAsync(RedisCommands.Set, [key, value], cancellationToken);
        }

        Span<RedisArg> args = new RedisArg[7];
        var n = 0;
        args[n++] = key;
        args[n++] = value;
        if (expiry is { } ttl)
        {
            args[n++] = RedisCommands.Px;
            args[n++] = ToMilliseconds(ttl, "expiry");
        }

        if (condition != SetCondition.Always)
        {
            args[n++] = condition == SetCondition.NotExists ? RedisCommands.Nx : RedisCommands.Xx;
        }

        if (keepTtl)
        {
            args[n++] = RedisCommands.KeepTtl;
        }

        if (get)
        {
            args[n++] = RedisCommands.GetKeyword;
        }

        return SendAsync(RedisCommands.Set, args[..n], cancellationToken);
    }

    private ValueTask<RedisReply> SendKeys(CommandName command, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException($"{command.Name} needs at least one key.", nameof(keys));
        }

        var rented = ArrayPool<RedisArg>.Shared.Rent(keys.Count);
        try
        {
            for (var i = 0; i < keys.Count; i++)
            {
                rented[i] = keys[i] ?? throw new ArgumentException($"Key {i} is null.", nameof(keys));
            }

            return SendAsync(command, rented.AsSpan(0, keys.Count), cancellationToken);
        }
        finally
        {
            ArrayPool<RedisArg>.Shared.Return(rented, clearArray: true);
        }
    }

    private ValueTask<RedisReply> SendScript(
        CommandName command, string scriptOrSha, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken)
    {
        var total = 2 + keys.Count + args.Count;
        var rented = ArrayPool<RedisArg>.Shared.Rent(total);
        try
        {
            var n = 0;
            rented[n++] = scriptOrSha;
            rented[n++] = (long)keys.Count;
            foreach (var key in keys)
            {
                rented[n++] = key ?? throw new ArgumentException("A key is null.", nameof(keys));
            }

            for (var i = 0; i < args.Count; i++)
            {
                rented[n++] = args[i];
            }

            return SendAsync(command, rented.AsSpan(0, total), cancellationToken);
        }
        finally
        {
            ArrayPool<RedisArg>.Shared.Return(rented, clearArray: true);
        }
    }
}
