using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>
/// One socket to one Redis server, shared by every caller. Callers serialize their command into an in-memory pipe
/// and enqueue a <see cref="PendingCommand"/> under one lock, so the write order is the reply order. A writer loop
/// drains the pipe to the socket in batches; a reader loop parses replies and completes the pending commands in
/// FIFO order. A timer fails commands past their deadline (leaving them queued so their replies are dropped)
/// and pings an idle connection.
/// </summary>
internal sealed class PhysicalConnection : IAsyncDisposable
{
    private static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(100);

    private readonly RedisConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<RedisReply>? _pushHandler;
    private readonly object _writeLock = new();
    private readonly Queue<PendingCommand> _pending = new();
    private readonly Pipe _outbound;
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly string _endpointText;
    private Action<PhysicalConnection, Exception>? _faultHandler;
    private Exception? _fault;
    private int _faulted;
    private bool _closed;
    private long _lastRead;
    private long _lastWrite;
    private ITimer? _timer;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;

    private PhysicalConnection(
        DnsEndPoint endpoint, Socket socket, Stream stream, RedisConnectionOptions options, TimeProvider time, ILogger logger, Action<RedisReply>? pushHandler)
    {
        Endpoint = endpoint;
        _endpointText = RedisConnectionOptions.FormatEndpoint(endpoint);
        _socket = socket;
        _stream = stream;
        _options = options;
        _time = time;
        _logger = logger;
        _pushHandler = pushHandler;
        // Unbounded here: the number of pending commands is what is bounded (MaxPendingCommands).
        _outbound = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _lastRead = _lastWrite = time.GetTimestamp();
    }

    /// <summary>The server this connection talks to.</summary>
    public DnsEndPoint Endpoint { get; }

    /// <summary>Whether the connection has failed or been closed.</summary>
    public bool IsClosed => Volatile.Read(ref _faulted) != 0;

    /// <summary>How many commands wait for replies.</summary>
    public int PendingCount
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Connects, negotiates TLS, and runs the handshake (AUTH, SELECT, CLIENT SETNAME, PING) before returning, so no
    /// caller command can precede authentication.
    /// </summary>
    /// <exception cref="RedisConnectionException">With a message that says what failed (refused, TLS, authentication).</exception>
    public static async Task<PhysicalConnection> ConnectAsync(
        DnsEndPoint endpoint, RedisConnectionOptions options, TimeProvider time, ILogger logger, Action<RedisReply>? pushHandler, CancellationToken cancellationToken)
    {
        var text = RedisConnectionOptions.FormatEndpoint(endpoint);
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        PhysicalConnection? connection = null;
        try
        {
            try
            {
                await socket.ConnectAsync(endpoint, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new RedisConnectionException(
                    $"Connecting to {text} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms (connectTimeout).", endpoint, RedisConnectionState.Connecting, null);
            }
            catch (SocketException ex)
            {
                throw new RedisConnectionException($"Could not connect to {text}: {ex.SocketErrorCode} ({ex.Message}).", endpoint, RedisConnectionState.Connecting, null, ex);
            }

            stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Ssl)
            {
                stream = await AuthenticateTlsAsync(endpoint, text, stream, options, linked.Token, timeout).ConfigureAwait(false);
            }

            connection = new PhysicalConnection(endpoint, socket, stream, options, time, logger, pushHandler);
            connection.Start();
            await connection.HandshakeAsync(linked.Token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                stream?.Dispose();
                socket.Dispose();
            }

            if (ex is RedisConnectionException || cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            if (ex is OperationCanceledException && timeout.IsCancellationRequested)
            {
                throw new RedisConnectionException(
                    $"Connecting to {text} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms (connectTimeout) during the handshake." +
                    (options.Ssl ? string.Empty : " If the server expects TLS on this port, set ssl=true."),
                    endpoint, RedisConnectionState.Connecting, null, ex);
            }

            throw new RedisConnectionException($"Connecting to {text} failed: {ex.Message}", endpoint, RedisConnectionState.Connecting, null, ex);
        }
    }

    /// <summary>Sets who is told when the connection fails; told at once when it already has.</summary>
    public void SetFaultHandler(Action<PhysicalConnection, Exception> handler)
    {
        _faultHandler = handler;
        if (Volatile.Read(ref _faulted) != 0)
        {
            handler(this, _fault!);
        }
    }

    /// <summary>
    /// Writes a command and returns its reply (an error reply is returned, not thrown). Fails at once when the
    /// connection is closed or too many commands wait.
    /// </summary>
    public ValueTask<RedisReply> SendAsync(CommandName command, ReadOnlySpan<RedisArg> args, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RedisReply>(cancellationToken);
        }

        var op = Enqueue(command, args, timeout ?? _options.AsyncTimeout, awaited: true);
        if (cancellationToken.CanBeCanceled)
        {
            op.RegisterCancellation(cancellationToken);
        }

        return new ValueTask<RedisReply>(op, op.Version);
    }

    /// <summary>Writes a command whose reply is read and dropped (keep-alive pings).</summary>
    public void SendAndForget(CommandName command, ReadOnlySpan<RedisArg> args)
    {
        try
        {
            Enqueue(command, args, _options.AsyncTimeout, awaited: false);
        }
        catch (RedisException)
        {
            // The connection is closing or full; the keep-alive has nothing to add.
        }
    }

    /// <summary>Fails every waiting command and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        Fault(new RedisConnectionException($"The connection to {_endpointText} was closed by the client.", Endpoint, RedisConnectionState.Disposed, null), notify: false);
        try
        {
            await Task.WhenAll(_readLoop, _writeLoop).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loops end with the socket; their errors were reported through Fault.
        }

        _shutdown.Dispose();
    }

    private static async Task<Stream> AuthenticateTlsAsync(
        DnsEndPoint endpoint, string text, Stream inner, RedisConnectionOptions options, CancellationToken cancellationToken, CancellationTokenSource timeout)
    {
        SslPolicyErrors? rejected = null;
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var authOptions = new SslClientAuthenticationOptions
        {
            TargetHost = options.SslHost ?? endpoint.Host,
            ClientCertificates = options.ClientCertificate is null ? null : [options.ClientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                var ok = ValidateServerCertificate(certificate, errors, options.TrustedCaCertificates);
                if (!ok)
                {
                    rejected = errors;
                }

                return ok;
            },
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(authOptions, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException || (ex is OperationCanceledException && timeout.IsCancellationRequested))
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            var why = rejected is { } errors
                ? $"the server certificate was rejected ({errors}); trust its CA with TrustedCaCertificates or set sslHost to the name in the certificate"
                : "the server did not complete a TLS handshake; check that this port serves TLS (ssl=true was given), and that a required client certificate is set";
            throw new RedisConnectionException($"TLS handshake with {text} failed: {why}. ({ex.Message})", endpoint, RedisConnectionState.Connecting, null, ex);
        }
    }

    private static bool ValidateServerCertificate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? trusted)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (trusted is null || certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        // Only the chain failed: build it again against the configured CAs instead of the system store.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = new X509Certificate2(certificate);
        return chain.Build(cert);
    }

    private void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
        _timer = _time.CreateTimer(static s => ((PhysicalConnection)s!).OnTick(), this, TickPeriod, TickPeriod);
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        var steps = new List<(string What, ValueTask<RedisReply> Reply)>(4);
        if (o.Password is not null)
        {
            steps.Add(("AUTH", o.User is null
                ? SendAsync(RedisCommands.Auth, [o.Password], cancellationToken, o.ConnectTimeout)
                : SendAsync(RedisCommands.Auth, [o.User, o.Password], cancellationToken, o.ConnectTimeout)));
        }

        if (o.DefaultDatabase != 0)
        {
            steps.Add(("SELECT", SendAsync(RedisCommands.Select, [(long)o.DefaultDatabase], cancellationToken, o.ConnectTimeout)));
        }

        if (o.ClientName is not null)
        {
            steps.Add(("CLIENT SETNAME", SendAsync(RedisCommands.Client, [RedisCommands.SetName, o.ClientName], cancellationToken, o.ConnectTimeout)));
        }

        steps.Add(("PING", SendAsync(RedisCommands.Ping, [], cancellationToken, o.ConnectTimeout)));

        Exception? failure = null;
        foreach (var (what, pending) in steps)
        {
            // Every step is awaited, even after a failure, so that no pooled command is left unobserved.
            try
            {
                var reply = await pending.ConfigureAwait(false);
                if (failure is null && reply.IsError)
                {
                    failure = HandshakeError(what, reply.ErrorMessage!);
                }
            }
            catch (Exception ex) when (failure is null)
            {
                failure = ex is RedisTimeoutException
                    ? new RedisConnectionException(
                        $"{_endpointText} did not answer {what} within {o.ConnectTimeout.TotalMilliseconds:0} ms (connectTimeout)." +
                        (o.Ssl ? string.Empty : " If the server expects TLS on this port, set ssl=true."),
                        Endpoint, RedisConnectionState.Connecting, null, ex)
                    : new RedisConnectionException(
                        $"The connection to {_endpointText} failed during {what}: {ex.Message}" +
                        (o.Ssl ? string.Empty : " If the server expects TLS on this port, set ssl=true."),
                        Endpoint, RedisConnectionState.Connecting, null, ex);
            }
            catch (Exception)
            {
                // Already failing with the first error.
            }
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    private RedisConnectionException HandshakeError(string what, string serverMessage)
    {
        var user = _options.User ?? "default";
        var text = serverMessage.StartsWith("WRONGPASS", StringComparison.Ordinal)
            ? $"Authentication to {_endpointText} as user '{user}' failed: the password is wrong, or the user does not exist or is disabled ({serverMessage}). Check password= and user=."
            : serverMessage.StartsWith("NOAUTH", StringComparison.Ordinal)
                ? $"{_endpointText} requires authentication ({serverMessage}); add password= (and user= for an ACL user) to the connection string."
                : serverMessage.StartsWith("NOPERM", StringComparison.Ordinal)
                    ? $"User '{user}' may not run {what} on {_endpointText} ({serverMessage}); grant it in the user's ACL or drop the option that needs it."
                    : $"{what} failed on {_endpointText}: {serverMessage}";
        return new RedisConnectionException(text, Endpoint, RedisConnectionState.Connecting, null, new RedisServerException(what, serverMessage));
    }

    private PendingCommand Enqueue(CommandName command, ReadOnlySpan<RedisArg> args, TimeSpan timeout, bool awaited)
    {
        var now = _time.GetTimestamp();
        var op = PendingCommand.Rent(command.Name, now, timeout, now + (long)(timeout.TotalSeconds * _time.TimestampFrequency), awaited);
        lock (_writeLock)
        {
            if (_closed)
            {
                op.ReturnUnused();
                throw new RedisConnectionException(
                    $"The connection to {_endpointText} is closed ({_fault?.Message})", Endpoint, RedisConnectionState.Disconnected, null, _fault);
            }

            lock (_pending)
            {
                if (_pending.Count >= _options.MaxPendingCommands)
                {
                    op.ReturnUnused();
                    throw new RedisException(
                        $"{_pending.Count} commands already wait for replies from {_endpointText} (MaxPendingCommands); the server is not keeping up.");
                }

                _pending.Enqueue(op);
            }

            RespWriter.WriteCommand(_outbound.Writer, command, args);
            _lastWrite = now;

            // The pipe is unbounded, so this completes synchronously: it publishes the bytes to the writer loop.
            _ = _outbound.Writer.FlushAsync(CancellationToken.None);
        }

        return op;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        byte[]? scratch = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.IsSingleSegment)
                {
                    await _stream.WriteAsync(buffer.First, _shutdown.Token).ConfigureAwait(false);
                }
                else
                {
                    // Many small commands span segments: gather them so the socket (or TLS record) gets one write.
                    scratch ??= ArrayPool<byte>.Shared.Rent(256 * 1024);
                    var remaining = buffer;
                    while (!remaining.IsEmpty)
                    {
                        var chunk = remaining.Slice(0, Math.Min(remaining.Length, scratch.Length));
                        chunk.CopyTo(scratch);
                        await _stream.WriteAsync(scratch.AsMemory(0, (int)chunk.Length), _shutdown.Token).ConfigureAwait(false);
                        remaining = remaining.Slice(chunk.End);
                    }
                }

                await _stream.FlushAsync(_shutdown.Token).ConfigureAwait(false);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            Fault(new RedisConnectionException($"Writing to {_endpointText} failed: {ex.Message}", Endpoint, RedisConnectionState.Disconnected, null, ex));
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(_shutdown.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    var any = false;
                    while (RespParser.TryRead(ref buffer, _options.MaxReplyBytes, out var reply))
                    {
                        any = true;
                        Dispatch(reply);
                    }

                    if (any || !buffer.IsEmpty)
                    {
                        _lastRead = _time.GetTimestamp();
                    }
                }
                finally
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    throw buffer.IsEmpty
                        ? new RedisConnectionException($"{_endpointText} closed the connection.", Endpoint, RedisConnectionState.Disconnected, null)
                        : new RedisProtocolException($"{_endpointText} closed the connection in the middle of a reply ({buffer.Length} bytes received).");
                }
            }
        }
        catch (RedisProtocolException ex)
        {
            Log.ProtocolError(_logger, _endpointText, ex.Message);
            Fault(ex);
        }
        catch (RedisConnectionException ex)
        {
            Fault(ex);
        }
        catch (Exception ex)
        {
            Fault(new RedisConnectionException($"Reading from {_endpointText} failed: {ex.Message}", Endpoint, RedisConnectionState.Disconnected, null, ex));
        }
        finally
        {
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(RedisReply reply)
    {
        if (_pushHandler is not null && IsPushMessage(reply))
        {
            _pushHandler(reply);
            return;
        }

        PendingCommand? op;
        lock (_pending)
        {
            _pending.TryDequeue(out op);
        }

        if (op is null)
        {
            throw new RedisProtocolException($"{_endpointText} sent a reply ({reply.Kind}) when no command was waiting for one.");
        }

        op.TrySetResult(reply);
        op.ReleaseByConnection();
    }

    private static bool IsPushMessage(RedisReply reply)
    {
        if (reply.Kind != RedisReplyKind.Array || reply.IsNull)
        {
            return false;
        }

        var elements = reply.Elements;
        if (elements.Count < 3 || elements[0].Kind != RedisReplyKind.BulkString || elements[0].IsNull)
        {
            return false;
        }

        var kind = elements[0].AsBytes()!;
        return (elements.Count == 3 && kind.AsSpan().SequenceEqual("message"u8))
            || (elements.Count == 4 && kind.AsSpan().SequenceEqual("pmessage"u8));
    }

    private void OnTick()
    {
        if (IsClosed)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var frequency = _time.TimestampFrequency;
        PendingCommand? oldest = null;
        List<PendingCommand>? expired = null;
        int count;
        lock (_pending)
        {
            count = _pending.Count;
            foreach (var op in _pending)
            {
                oldest ??= op;
                if (op.Deadline > now)
                {
                    // Commands share one timeout and are queued in order, so later ones expire later.
                    break;
                }

                if (!op.IsCompleted)
                {
                    (expired ??= []).Add(op);
                }
            }
        }

        if (expired is not null)
        {
            foreach (var op in expired)
            {
                op.TrySetException(new RedisTimeoutException(op.Command, op.Timeout, $"{_endpointText}, {count} commands waiting"));
            }
        }

        var keepAliveTicks = (long)(_options.KeepAlive.TotalSeconds * frequency);
        if (oldest is not null)
        {
            // Nothing read since the oldest command was written, for longer than keep-alive plus timeout: the peer is gone.
            var silentFor = now - oldest.SentAt;
            if (Volatile.Read(ref _lastRead) < oldest.SentAt && silentFor > keepAliveTicks + (long)(_options.AsyncTimeout.TotalSeconds * frequency))
            {
                Log.DeadPeer(_logger, _endpointText, (long)(silentFor * 1000.0 / frequency));
                Fault(new RedisConnectionException(
                    $"{_endpointText} sent nothing for {silentFor * 1000.0 / frequency:0} ms while commands waited (keepAlive + asyncTimeout); the connection is considered dead.",
                    Endpoint, RedisConnectionState.Disconnected, null));
            }
        }
        else if (now - Math.Max(Volatile.Read(ref _lastRead), Volatile.Read(ref _lastWrite)) > keepAliveTicks)
        {
            SendAndForget(RedisCommands.Ping, []);
        }
    }

    private void Fault(Exception reason, bool notify = true)
    {
        if (Interlocked.CompareExchange(ref _fault, reason, null) is not null)
        {
            return;
        }

        lock (_writeLock)
        {
            _closed = true;
            _outbound.Writer.Complete();
        }

        Volatile.Write(ref _faulted, 1);
        _timer?.Dispose();
        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception)
        {
            // Already closed.
        }

        _stream.Dispose();
        _socket.Dispose();

        PendingCommand[] orphans;
        lock (_pending)
        {
            orphans = _pending.ToArray();
            _pending.Clear();
        }

        // A protocol error reaches the callers as itself: their replies were lost to a malformed stream.
        var lost = reason as RedisException
            ?? new RedisConnectionException($"The connection to {_endpointText} was reset: {reason.Message}", Endpoint, RedisConnectionState.Disconnected, null, reason);
        foreach (var op in orphans)
        {
            op.TrySetException(lost);
            op.ReleaseByConnection();
        }

        if (notify)
        {
            _faultHandler?.Invoke(this, reason);
        }
    }
}
