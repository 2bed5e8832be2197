using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// How <see cref="RedisClient"/> connects: endpoints, credentials, TLS, timeouts and limits. Parsed from the
/// StackExchange.Redis connection-string format that Aspire injects (<c>host:port,password=…,ssl=true</c>).
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never shows the password. Certificates cannot be given in a connection string; set
/// <see cref="ClientCertificate"/> and <see cref="TrustedCaCertificates"/> in code after <see cref="Parse"/>.
/// The client takes a copy when it connects, so later changes to this instance do not affect it.
/// </remarks>
public sealed class RedisConnectionOptions
{
    /// <summary>The Redis limit for one bulk string, and the default of <see cref="MaxReplyBytes"/>: 512 MiB.</summary>
    public const long DefaultMaxReplyBytes = 512L * 1024 * 1024;

    private const int DefaultPort = 6379;
    private const int DefaultTlsPort = 6380;

    /// <summary>The servers to connect to, in order of preference: the first reachable one is used.</summary>
    /// <value>Empty until set; at least one is required.</value>
    public IReadOnlyList<DnsEndPoint> Endpoints { get; set; } = [];

    /// <summary>The ACL user name (<c>user=</c>); the <c>default</c> user when null.</summary>
    /// <value>Null.</value>
    public string? User { get; set; }

    /// <summary>The password (<c>password=</c>); no AUTH is sent when null. Never shown by <see cref="ToString"/>.</summary>
    /// <value>Null.</value>
    public string? Password { get; set; }

    /// <summary>Whether to connect with TLS (<c>ssl=</c>).</summary>
    /// <value><see langword="false"/>.</value>
    public bool Ssl { get; set; }

    /// <summary>The server name for TLS (SNI and certificate validation, <c>sslHost=</c>); the endpoint's host when null.</summary>
    /// <value>Null.</value>
    public string? SslHost { get; set; }

    /// <summary>
    /// Whether <see cref="RedisClient.ConnectAsync(RedisConnectionOptions, Microsoft.Extensions.Logging.ILoggerFactory?, TimeProvider?, CancellationToken)"/>
    /// throws when no endpoint can be reached (<c>abortConnect=</c>). When false it returns a disconnected client
    /// that keeps reconnecting in the background.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool AbortOnConnectFail { get; set; } = true;

    /// <summary>How many rounds over the endpoints the first connect makes before giving up (<c>connectRetry=</c>).</summary>
    /// <value>3.</value>
    public int ConnectRetry { get; set; } = 3;

    /// <summary>How long one connect attempt (TCP, TLS and the AUTH/SELECT/SETNAME handshake) may take (<c>connectTimeout=</c>, ms).</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The timeout of synchronous operations in StackExchange.Redis (<c>syncTimeout=</c>, ms). The client is
    /// async-only; this is the default of <see cref="AsyncTimeout"/> when that is not given.
    /// </summary>
    /// <value>5 seconds.</value>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command may wait for its reply before it fails with <see cref="RedisTimeoutException"/> (<c>asyncTimeout=</c>, ms).</summary>
    /// <value>5 seconds.</value>
    public TimeSpan AsyncTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The database selected on every connection (<c>defaultDatabase=</c>).</summary>
    /// <value>0.</value>
    public int DefaultDatabase { get; set; }

    /// <summary>The connection name sent with <c>CLIENT SETNAME</c> (<c>name=</c>); none when null.</summary>
    /// <value>Null.</value>
    public string? ClientName { get; set; }

    /// <summary>
    /// After this long without traffic the client sends a PING; a connection that has commands waiting and has read
    /// nothing for this long plus <see cref="AsyncTimeout"/> is declared dead and reconnected (<c>keepAlive=</c>, seconds).
    /// </summary>
    /// <value>60 seconds.</value>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest reply accepted; a bigger one is a protocol error that resets the connection (<c>maxReplyBytes=</c>).</summary>
    /// <value>512 MiB (<see cref="DefaultMaxReplyBytes"/>).</value>
    public long MaxReplyBytes { get; set; } = DefaultMaxReplyBytes;

    /// <summary>How many commands one connection may have waiting for replies; more fail at once with <see cref="RedisException"/>.</summary>
    /// <value>100,000.</value>
    public int MaxPendingCommands { get; set; } = 100_000;

    /// <summary>The first delay before reconnecting; it doubles (with jitter) up to <see cref="ReconnectMaxDelay"/> (<c>reconnectMinDelay=</c>, ms).</summary>
    /// <value>100 milliseconds.</value>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between reconnect attempts (<c>reconnectMaxDelay=</c>, ms).</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A client certificate (with its private key) presented in the TLS handshake; none when null.</summary>
    /// <value>Null.</value>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// CA certificates trusted for the server's certificate instead of the system store (for private CAs); the
    /// system store is used when null.
    /// </summary>
    /// <value>Null.</value>
    public X509Certificate2Collection? TrustedCaCertificates { get; set; }

    /// <summary>
    /// Parses a StackExchange.Redis-style connection string: comma-separated endpoints (<c>host:port</c>,
    /// <c>[::1]:port</c>) and <c>key=value</c> options. Option names are case-insensitive.
    /// </summary>
    /// <param name="connectionString">For example <c>localhost:6379,password=secret,ssl=true,abortConnect=false</c>.</param>
    /// <returns>The options; <see cref="Validate"/> has passed.</returns>
    /// <exception cref="ArgumentException">An unknown option (named in the message), a bad value, or no endpoint.</exception>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new RedisConnectionOptions();
        var endpoints = new List<(string Host, int? Port)>();
        bool asyncTimeoutGiven = false;
        foreach (var rawPart in connectionString.Split(','))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                endpoints.Add(ParseEndpoint(part));
                continue;
            }

            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password":
                    options.Password = value.Length == 0 ? null : value;
                    break;
                case "user":
                    options.User = value.Length == 0 ? null : value;
                    break;
                case "ssl":
                    options.Ssl = ParseBool(key, value);
                    break;
                case "sslhost":
                    options.SslHost = value.Length == 0 ? null : value;
                    break;
                case "abortconnect":
                    options.AbortOnConnectFail = ParseBool(key, value);
                    break;
                case "connectretry":
                    options.ConnectRetry = ParseInt(key, value, min: 1);
                    break;
                case "connecttimeout":
                    options.ConnectTimeout = ParseMilliseconds(key, value);
                    break;
                case "synctimeout":
                    options.SyncTimeout = ParseMilliseconds(key, value);
                    break;
                case "asynctimeout":
                    options.AsyncTimeout = ParseMilliseconds(key, value);
                    asyncTimeoutGiven = true;
                    break;
                case "defaultdatabase":
                    options.DefaultDatabase = ParseInt(key, value, min: 0);
                    break;
                case "name":
                    options.ClientName = value.Length == 0 ? null : value;
                    break;
                case "keepalive":
                    options.KeepAlive = TimeSpan.FromSeconds(ParseInt(key, value, min: 1));
                    break;
                case "maxreplybytes":
                    options.MaxReplyBytes = ParseLong(key, value, min: 1);
                    break;
                case "reconnectmindelay":
                    options.ReconnectMinDelay = ParseMilliseconds(key, value);
                    break;
                case "reconnectmaxdelay":
                    options.ReconnectMaxDelay = ParseMilliseconds(key, value);
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown Redis connection-string option '{key}'. Known options: password, user, ssl, sslHost, abortConnect, " +
                        "connectRetry, connectTimeout, syncTimeout, asyncTimeout, defaultDatabase, name, keepAlive, maxReplyBytes, " +
                        "reconnectMinDelay, reconnectMaxDelay.",
                        nameof(connectionString));
            }
        }

        if (!asyncTimeoutGiven)
        {
            options.AsyncTimeout = options.SyncTimeout;
        }

        var defaultPort = options.Ssl ? DefaultTlsPort : DefaultPort;
        options.Endpoints = endpoints.Select(e => new DnsEndPoint(e.Host, e.Port ?? defaultPort)).ToArray();
        options.Validate();
        return options;
    }

    /// <summary>Checks every setting and throws naming the first bad one.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("A Redis connection needs at least one endpoint (host:port).", nameof(Endpoints));
        }

        RequirePositive(ConnectTimeout, nameof(ConnectTimeout));
        RequirePositive(SyncTimeout, nameof(SyncTimeout));
        RequirePositive(AsyncTimeout, nameof(AsyncTimeout));
        RequirePositive(KeepAlive, nameof(KeepAlive));
        RequirePositive(ReconnectMinDelay, nameof(ReconnectMinDelay));
        if (ReconnectMaxDelay < ReconnectMinDelay)
        {
            throw new ArgumentException(
                $"ReconnectMaxDelay ({ReconnectMaxDelay}) must not be shorter than ReconnectMinDelay ({ReconnectMinDelay}).",
                nameof(ReconnectMaxDelay));
        }

        if (DefaultDatabase < 0)
        {
            throw new ArgumentException($"DefaultDatabase must be 0 or more; it is {DefaultDatabase}.", nameof(DefaultDatabase));
        }

        if (ConnectRetry < 1)
        {
            throw new ArgumentException($"ConnectRetry must be 1 or more; it is {ConnectRetry}.", nameof(ConnectRetry));
        }

        if (MaxReplyBytes < 64)
        {
            throw new ArgumentException($"MaxReplyBytes must be 64 or more; it is {MaxReplyBytes}.", nameof(MaxReplyBytes));
        }

        if (MaxPendingCommands < 1)
        {
            throw new ArgumentException($"MaxPendingCommands must be 1 or more; it is {MaxPendingCommands}.", nameof(MaxPendingCommands));
        }

        if (ClientName is not null && ClientName.Any(c => c <= ' ' || c > '~'))
        {
            throw new ArgumentException($"ClientName '{ClientName}' may hold only printable ASCII without spaces.", nameof(ClientName));
        }
    }

    /// <summary>The options as a connection string, with the password shown as <c>*****</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', Endpoints.Select(FormatEndpoint));
        if (User is not null)
        {
            sb.Append(",user=").Append(User);
        }

        if (Password is not null)
        {
            sb.Append(",password=*****");
        }

        if (Ssl)
        {
            sb.Append(",ssl=true");
        }

        if (SslHost is not null)
        {
            sb.Append(",sslHost=").Append(SslHost);
        }

        var inv = CultureInfo.InvariantCulture;
        sb.Append(",abortConnect=").Append(AbortOnConnectFail ? "true" : "false");
        sb.Append(inv, $",connectTimeout={(long)ConnectTimeout.TotalMilliseconds},syncTimeout={(long)SyncTimeout.TotalMilliseconds}");
        sb.Append(inv, $",asyncTimeout={(long)AsyncTimeout.TotalMilliseconds},keepAlive={(long)KeepAlive.TotalSeconds}");
        if (DefaultDatabase != 0)
        {
            sb.Append(inv, $",defaultDatabase={DefaultDatabase}");
        }

        if (ClientName is not null)
        {
            sb.Append(",name=").Append(ClientName);
        }

        return sb.ToString();
    }

    /// <summary>A copy the client keeps, so later changes by the caller do not reach a running connection.</summary>
    internal RedisConnectionOptions Clone()
    {
        var copy = (RedisConnectionOptions)MemberwiseClone();
        copy.Endpoints = Endpoints.ToArray();
        return copy;
    }

    internal static string FormatEndpoint(DnsEndPoint endpoint) =>
        endpoint.Host.Contains(':', StringComparison.Ordinal)
            ? $"[{endpoint.Host}]:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{endpoint.Host}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";

    private static (string Host, int? Port) ParseEndpoint(string text)
    {
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Bad Redis endpoint '{text}': missing ']'.", "connectionString");
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    throw new ArgumentException($"Bad Redis endpoint '{text}'.", "connectionString");
                }

                port = rest[1..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                // A bare IPv6 address without brackets and without a port.
                host = text;
            }
            else if (colon >= 0)
            {
                host = text[..colon];
                port = text[(colon + 1)..];
            }
            else
            {
                host = text;
            }
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"Bad Redis endpoint '{text}': the host is empty or has spaces.", "connectionString");
        }

        if (port is null)
        {
            return (host, null);
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        {
            throw new ArgumentException($"Bad Redis endpoint '{text}': the port must be 1-65535.", "connectionString");
        }

        return (host, p);
    }

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ArgumentException($"Redis option '{key}' must be true or false; it is '{value}'.", "connectionString"),
    };

    private static int ParseInt(string key, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"Redis option '{key}' must be an integer of at least {min}; it is '{value}'.", "connectionString");

    private static long ParseLong(string key, string value, long min) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"Redis option '{key}' must be an integer of at least {min}; it is '{value}'.", "connectionString");

    private static TimeSpan ParseMilliseconds(string key, string value) => TimeSpan.FromMilliseconds(ParseInt(key, value, min: 1));

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} must be positive; it is {value}.", name);
        }
    }
}
