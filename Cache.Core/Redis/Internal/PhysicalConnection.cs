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
/// and enqueue a <see cref="PendingCommand"/> under one lock, so the write order is the reply order. Whoever holds
/// the write turn drains the pipe to the socket: the caller itself when the connection was idle (no hop), otherwise
/// a thread-pool work item that sends whatever has accumulated in one write. A read loop parses replies and
/// completes the pending commands in FIFO order. A timer fails commands past their deadline (leaving them queued
/// so their replies are dropped) and pings an idle connection.
/// </summary>
internal sealed class PhysicalConnection : IAsyncDisposable, IThreadPoolWorkItem
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
    private readonly RespParser _parser;
    private readonly Action _onReadCompleted;
    private readonly TaskCompletionSource _readLoopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<PhysicalConnection, Exception>? _faultHandler;
    private Exception? _fault;
    private int _faulted;
    private bool _closed;
    private long _lastRead;
    private long _lastWrite;
    private ITimer? _timer;

    // The write turn (guarded by _writeLock): whoever set _writing reads _outbound and writes to the socket until it
    // finds nothing unsent. _unsent counts commands flushed into the pipe since the holder last looked.
    private bool _writing;
    private int _unsent;
    private byte[]? _scratch;

    // The read that the read loop waits for, handed to OnReadCompleted.
    private ValueTask<ReadResult> _read;

    // The read loop's own: the command a bulk-string reply was taken off the FIFO for (TakeHeadForBulk), until the
    // loop completes it; and the callback the parser asks.
    private PendingCommand? _dequeuedForBulk;
    private readonly Func<bool> _takeHeadForBulk;

    // Commands enqueued since the FIFO was last found empty (guarded by _writeLock). When the FIFO is empty and the
    // period before held one command, a lone caller is going back and forth; when it held many, the read that
    // emptied the FIFO has just woken many callers, whose commands should go out together.
    private int _busyPeriodCommands;

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
        _parser = new RespParser(options.MaxReplyBytes);
        _onReadCompleted = OnReadCompleted;
        _takeHeadForBulk = TakeHeadForBulk;
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
    /// <param name="command">The command.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Cancels the wait (the reply is still read and dropped).</param>
    /// <param name="timeout">The deadline; the connection's <c>asyncTimeout</c> when null.</param>
    /// <param name="pooledBulk">
    /// A bulk-string reply is read into an array rented from <see cref="ArrayPool{T}.Shared"/>
    /// (<see cref="RedisReply.TryTakeLease"/>), for a caller that returns it once done with the bytes.
    /// </param>
    public ValueTask<RedisReply> SendAsync(CommandName command, ReadOnlySpan<RedisArg> args, CancellationToken cancellationToken, TimeSpan? timeout = null, bool pooledBulk = false)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RedisReply>(cancellationToken);
        }

        var op = Enqueue(command, args, timeout ?? _options.AsyncTimeout, awaited: true, pooledBulk);
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
            // A drain in progress ends with the socket (its write fails or it finds the pipe completed).
            await _readLoopDone.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
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

    /// <summary>The write turn passed to the thread pool: drain what other callers queued.</summary>
    void IThreadPoolWorkItem.Execute() => _ = DrainAsync(fromCaller: false);

    private void Start()
    {
        // The first read finds nothing and goes pending, so this returns at once.
        ReadLoop(resumed: false);
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

    private PendingCommand Enqueue(CommandName command, ReadOnlySpan<RedisArg> args, TimeSpan timeout, bool awaited, bool pooledBulk = false)
    {
        var now = _time.GetTimestamp();
        var op = PendingCommand.Rent(command.Name, now, timeout, now + (long)(timeout.TotalSeconds * _time.TimestampFrequency), awaited);
        op.PooledBulk = pooledBulk;
        var solo = false;
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

                if (_pending.Count == 0)
                {
                    solo = _busyPeriodCommands <= 1;
                    _busyPeriodCommands = 0;
                }

                _busyPeriodCommands++;
                _pending.Enqueue(op);
            }

            RespWriter.WriteCommand(_outbound.Writer, command, args);
            _lastWrite = now;
            _unsent++;

            // The pipe is unbounded and nobody awaits its reader, so this completes synchronously: it publishes the
            // bytes to whoever holds (or takes) the write turn.
            _ = _outbound.Writer.FlushAsync(CancellationToken.None);
            if (_writing)
            {
                // The holder of the write turn sends these bytes with its next write.
                return op;
            }

            _writing = true;
        }

        if (solo)
        {
            // A lone caller: send now, from this thread, rather than wake another to do it. Otherwise commands are
            // in flight, or a read that answered many has just woken their callers, and the work item batches what
            // they send into one write (sending the first one alone would halve the batches).
            _ = DrainAsync(fromCaller: true);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        return op;
    }

    /// <summary>
    /// Runs with the write turn: writes everything in the pipe, and repeats while callers add more. A caller that
    /// took the turn writes once and passes any more to the thread pool, so a caller never writes for others for
    /// long. The write completes synchronously unless the socket's send buffer is full; then this continues on the
    /// thread pool and the caller has already returned.
    /// </summary>
    private async Task DrainAsync(bool fromCaller)
    {
        var reader = _outbound.Reader;
        var wrote = false;
        try
        {
            while (true)
            {
                lock (_writeLock)
                {
                    if (_closed)
                    {
                        // Fault saw the turn taken and left the pipe to us; the turn is never given back.
                        break;
                    }

                    if (_unsent == 0)
                    {
                        _writing = false;
                        return;
                    }

                    if (wrote && fromCaller)
                    {
                        // The turn passes to the work item, still held.
                        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                        return;
                    }

                    _unsent = 0;
                }

                if (!reader.TryRead(out var result))
                {
                    // An earlier write already took these bytes (it read past the count it had seen).
                    continue;
                }

                var buffer = result.Buffer;
                if (buffer.IsSingleSegment)
                {
                    await _stream.WriteAsync(buffer.First, _shutdown.Token).ConfigureAwait(false);
                }
                else
                {
                    // Many small commands span segments: gather them so the socket (or TLS record) gets one write.
                    _scratch ??= ArrayPool<byte>.Shared.Rent(256 * 1024);
                    var remaining = buffer;
                    while (!remaining.IsEmpty)
                    {
                        var chunk = remaining.Slice(0, Math.Min(remaining.Length, _scratch.Length));
                        chunk.CopyTo(_scratch);
                        await _stream.WriteAsync(_scratch.AsMemory(0, (int)chunk.Length), _shutdown.Token).ConfigureAwait(false);
                        remaining = remaining.Slice(chunk.End);
                    }
                }

                if (_options.Ssl)
                {
                    await _stream.FlushAsync(_shutdown.Token).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                wrote = true;
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

        // Closed: the write turn stays taken so that nobody touches the pipe again.
        CompleteOutbound();
    }

    private void CompleteOutbound()
    {
        _outbound.Reader.Complete();
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }

    /// <summary>Continues the read loop on the thread that completed the socket read.</summary>
    private void OnReadCompleted() => ReadLoop(resumed: true);

    /// <summary>
    /// The read loop, written with callbacks rather than <c>await</c> so that it can register for its next read
    /// before it runs a caller's continuation: every reply but the last of a read completes its caller on the thread
    /// pool; the last is held back and, when the next read goes pending, completed inline on this thread, after the
    /// loop has handed itself to that read's completion. A continuation that blocks therefore delays no reply (the
    /// next read completes on another pool thread), and a lone caller saves the hop to a pool thread.
    /// </summary>
    private void ReadLoop(bool resumed)
    {
        PendingCommand? held = null;
        var heldReply = default(RedisReply);
        try
        {
            while (true)
            {
                ValueTask<ReadResult> read;
                if (resumed)
                {
                    read = _read;
                    _read = default;
                    resumed = false;
                }
                else
                {
                    read = _input.ReadAsync(_shutdown.Token);
                    if (!read.IsCompleted)
                    {
                        // From here another thread may run the loop: touch nothing of the reader's after this.
                        _read = read;
                        read.GetAwaiter().UnsafeOnCompleted(_onReadCompleted);
                        break;
                    }
                }

                if (held is not null)
                {
                    // More data is already here: its replies must not wait for this caller's continuation.
                    Complete(held, heldReply, inline: false);
                    held = null;
                }

                ProcessRead(read.Result, ref held, ref heldReply);
            }
        }
        catch (Exception ex)
        {
            if (held is not null)
            {
                Complete(held, heldReply, inline: false);
            }

            switch (ex)
            {
                case RedisProtocolException protocol:
                    Log.ProtocolError(_logger, _endpointText, protocol.Message);
                    Fault(protocol);
                    break;
                case RedisConnectionException connection:
                    Fault(connection);
                    break;
                default:
                    Fault(new RedisConnectionException($"Reading from {_endpointText} failed: {ex.Message}", Endpoint, RedisConnectionState.Disconnected, null, ex));
                    break;
            }

            _input.Complete();
            _readLoopDone.TrySetResult();
            return;
        }

        if (held is not null)
        {
            // Outside the try: the loop belongs to the pending read now, whatever the continuation does.
            Complete(held, heldReply, inline: true);
        }
    }

    private void ProcessRead(ReadResult result, ref PendingCommand? held, ref RedisReply heldReply)
    {
        var buffer = result.Buffer;
        try
        {
            var any = false;
            while (TryReadReply(ref buffer, out var reply))
            {
                any = true;
                if (_pushHandler is not null && IsPushMessage(reply))
                {
                    _pushHandler(reply);
                    continue;
                }

                var op = _dequeuedForBulk ?? Dequeue(reply);
                _dequeuedForBulk = null;
                if (held is not null)
                {
                    Complete(held, heldReply, inline: false);
                }

                held = op;
                heldReply = reply;
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

    // One reply. On the command connection (no push messages) a complete bulk string first takes its command off the
    // FIFO, to ask whether the caller wants it in a pooled array; the loop then completes that command.
    private bool TryReadReply(ref ReadOnlySequence<byte> buffer, out RedisReply reply)
    {
        try
        {
            return _parser.TryRead(ref buffer, out reply, _pushHandler is null ? _takeHeadForBulk : null);
        }
        catch (Exception ex) when (_dequeuedForBulk is { } taken)
        {
            // Off the FIFO already: the fault that follows would not reach it.
            _dequeuedForBulk = null;
            taken.TrySetException(new RedisConnectionException(
                $"Reading from {_endpointText} failed: {ex.Message}", Endpoint, RedisConnectionState.Disconnected, null, ex));
            taken.ReleaseByConnection();
            throw;
        }
    }

    private bool TakeHeadForBulk()
    {
        var op = Dequeue(RedisReply.BulkString(null));
        _dequeuedForBulk = op;
        return op.PooledBulk;
    }

    private static void Complete(PendingCommand op, RedisReply reply, bool inline)
    {
        if (!inline && op.TryQueueResult(reply))
        {
            return; // the queued completion lets go of the command
        }

        op.TrySetResult(reply, inline);
        op.ReleaseByConnection();
    }

    private PendingCommand Dequeue(RedisReply reply)
    {
        PendingCommand? op;
        lock (_pending)
        {
            _pending.TryDequeue(out op);
        }

        return op ?? throw new RedisProtocolException($"{_endpointText} sent a reply ({reply.Kind}) when no command was waiting for one.");
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

        bool completeOutbound;
        lock (_writeLock)
        {
            _closed = true;
            _outbound.Writer.Complete();

            // Whoever holds the write turn completes the pipe's reader when it sees _closed; else it is done here.
            completeOutbound = !_writing;
            _writing = true;
        }

        if (completeOutbound)
        {
            CompleteOutbound();
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
