namespace OptimizedCache.Cache.Core.Redis;

/// <summary>The RESP2 type of a <see cref="RedisReply"/>.</summary>
public enum RedisReplyKind
{
    /// <summary><c>+OK</c>.</summary>
    SimpleString,

    /// <summary><c>-ERR …</c>.</summary>
    Error,

    /// <summary><c>:42</c>.</summary>
    Integer,

    /// <summary><c>$3\r\nfoo</c>, or nil (<c>$-1</c>, <see cref="RedisReply.IsNull"/>).</summary>
    BulkString,

    /// <summary><c>*2…</c>, or nil (<c>*-1</c>, <see cref="RedisReply.IsNull"/>).</summary>
    Array,
}
