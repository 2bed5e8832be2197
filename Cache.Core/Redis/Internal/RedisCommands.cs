namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>The commands and keywords the typed API sends, encoded once.</summary>
internal static class RedisCommands
{
    public static readonly CommandName Ping = new("PING");
    public static readonly CommandName Auth = new("AUTH");
    public static readonly CommandName Select = new("SELECT");
    public static readonly CommandName Client = new("CLIENT");
    public static readonly CommandName Get = new("GET");
    public static readonly CommandName Set = new("SET");
    public static readonly CommandName MGet = new("MGET");
    public static readonly CommandName Del = new("DEL");
    public static readonly CommandName Unlink = new("UNLINK");
    public static readonly CommandName Exists = new("EXISTS");
    public static readonly CommandName PExpire = new("PEXPIRE");
    public static readonly CommandName PTtl = new("PTTL");
    public static readonly CommandName Incr = new("INCR");
    public static readonly CommandName Scan = new("SCAN");
    public static readonly CommandName Publish = new("PUBLISH");
    public static readonly CommandName EvalSha = new("EVALSHA");
    public static readonly CommandName Eval = new("EVAL");
    public static readonly CommandName Info = new("INFO");
    public static readonly CommandName Subscribe = new("SUBSCRIBE");
    public static readonly CommandName PSubscribe = new("PSUBSCRIBE");
    public static readonly CommandName Unsubscribe = new("UNSUBSCRIBE");
    public static readonly CommandName PUnsubscribe = new("PUNSUBSCRIBE");

    public static readonly ReadOnlyMemory<byte> Px = "PX"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Nx = "NX"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Xx = "XX"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> KeepTtl = "KEEPTTL"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> GetKeyword = "GET"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Match = "MATCH"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Count = "COUNT"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> SetName = "SETNAME"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> ZeroCursor = "0"u8.ToArray();

    /// <summary>
    /// Commands that would change the state every multiplexed caller shares (database, protocol, reply mode,
    /// subscription mode, transactions), so the generic API refuses them.
    /// </summary>
    public static readonly HashSet<string> RefusedOnSharedConnection = new(StringComparer.OrdinalIgnoreCase)
    {
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "QUIT", "HELLO",
        "SELECT", "AUTH", "RESET", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SYNC", "PSYNC",
    };
}
