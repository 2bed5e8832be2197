using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OptimizedCache.Testing;

/// <summary>How a test wants its <c>redis-server</c> configured.</summary>
public sealed record RedisServerOptions
{
    /// <summary>The default user's password (<c>requirepass</c>); none when null.</summary>
    public string? Password { get; init; }

    /// <summary>ACL rules, one user per line, as in a Redis config file (<c>user alice on &gt;secret ~* +@all</c>).</summary>
    public IReadOnlyList<string> AclUsers { get; init; } = [];

    /// <summary>Also listen with TLS on <see cref="RedisServer.TlsPort"/>, with a self-signed CA made for this server.</summary>
    public bool Tls { get; init; }

    /// <summary>Require TLS clients to present a certificate signed by the test CA.</summary>
    public bool RequireClientCertificate { get; init; }

    /// <summary>Extra config lines appended verbatim.</summary>
    public IReadOnlyList<string> ExtraConfig { get; init; } = [];
}

/// <summary>
/// A real <c>redis-server</c> on free loopback ports, with no persistence, that can be stopped and
/// started again on the same ports (for fault tests). Dispose removes its folder.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly RedisServerOptions _options;
    private readonly string _executable;
    private readonly BoundedLog _log = new();
    private Process? _process;

    private RedisServer(RedisServerOptions options)
    {
        _options = options;
        _executable = ServerProcess.Locate("redis-server", "redis-server");
        Directory = Path.Combine(Path.GetTempPath(), "oc-redis-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        Port = ServerProcess.FreePort();
        TlsPort = options.Tls ? ServerProcess.FreePort() : 0;
    }

    /// <summary>The plain-text port.</summary>
    public int Port { get; }

    /// <summary>The TLS port, or 0 when TLS is off.</summary>
    public int TlsPort { get; }

    /// <summary>The server's working folder (config, TLS material).</summary>
    public string Directory { get; }

    /// <summary>The test CA's certificate (PEM), when TLS is on.</summary>
    public string CaCertificatePath => Path.Combine(Directory, "ca.crt");

    /// <summary>A client certificate (PEM cert + key) signed by the test CA, when TLS is on.</summary>
    public string ClientCertificatePath => Path.Combine(Directory, "client.crt");

    /// <summary>The client certificate's private key (PEM).</summary>
    public string ClientKeyPath => Path.Combine(Directory, "client.key");

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>A StackExchange.Redis-style connection string for the plain port.</summary>
    public string ConnectionString =>
        _options.Password is null
            ? $"127.0.0.1:{Port}"
            : $"127.0.0.1:{Port},password={_options.Password}";

    /// <summary>What the server printed last, for assertion messages.</summary>
    public string Log => _log.ToString();

    /// <summary>Creates the server's folder and config and starts it.</summary>
    public static async Task<RedisServer> StartAsync(RedisServerOptions? options = null)
    {
        var server = new RedisServer(options ?? new RedisServerOptions());
        try
        {
            if (server._options.Tls)
            {
                await server.CreateTlsMaterialAsync();
            }

            server.WriteConfig();
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server again (on the same ports) after <see cref="StopAsync"/> or <see cref="Kill"/>.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        ServerProcess.Kill(_process);
        _process = ServerProcess.Start(_executable, [Path.Combine(Directory, "redis.conf")], _log, Directory);
        await ServerProcess.WaitForPortAsync(Port, _process, _log, TimeSpan.FromSeconds(15));
        if (TlsPort != 0)
        {
            await ServerProcess.WaitForPortAsync(TlsPort, _process, _log, TimeSpan.FromSeconds(15));
        }
    }

    /// <summary>Stops the server abruptly (SIGKILL), as a crash would; connections drop at once.</summary>
    public void Kill()
    {
        ServerProcess.Kill(_process);
        _process = null;
    }

    /// <summary>Stops the server and waits until it has exited.</summary>
    public Task StopAsync()
    {
        Kill();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is reclaimed by the OS otherwise.
        }

        return ValueTask.CompletedTask;
    }

    private void WriteConfig()
    {
        var config = new StringBuilder();
        config.AppendLine(CultureInfo.InvariantCulture, $"port {Port}");
        config.AppendLine("bind 127.0.0.1");
        config.AppendLine("daemonize no");
        config.AppendLine("save \"\"");
        config.AppendLine("appendonly no");
        config.AppendLine(CultureInfo.InvariantCulture, $"dir {Directory}");
        config.AppendLine("loglevel warning");
        config.AppendLine("logfile \"\"");
        config.AppendLine("enable-debug-command yes");
        if (_options.Password is not null)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"requirepass {_options.Password}");
        }

        foreach (var user in _options.AclUsers)
        {
            config.AppendLine(user);
        }

        if (_options.Tls)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"tls-port {TlsPort}");
            config.AppendLine(CultureInfo.InvariantCulture, $"tls-cert-file {Path.Combine(Directory, "server.crt")}");
            config.AppendLine(CultureInfo.InvariantCulture, $"tls-key-file {Path.Combine(Directory, "server.key")}");
            config.AppendLine(CultureInfo.InvariantCulture, $"tls-ca-cert-file {CaCertificatePath}");
            config.AppendLine(_options.RequireClientCertificate ? "tls-auth-clients yes" : "tls-auth-clients no");
        }

        foreach (var line in _options.ExtraConfig)
        {
            config.AppendLine(line);
        }

        File.WriteAllText(Path.Combine(Directory, "redis.conf"), config.ToString());
    }

    private async Task CreateTlsMaterialAsync()
    {
        var openssl = ServerProcess.Locate("openssl", "openssl");
        string[][] steps =
        [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=OptimizedCache Test CA",
                "-keyout", "ca.key", "-out", "ca.crt"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "san.cnf", "-out", "server.crt"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=oc-test-client", "-keyout", "client.key", "-out", "client.csr"],
            ["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-out", "client.crt"],
        ];
        await File.WriteAllTextAsync(Path.Combine(Directory, "san.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        foreach (var step in steps)
        {
            var log = new BoundedLog();
            using var process = ServerProcess.Start(openssl, step, log, Directory);
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"openssl {string.Join(' ', step)} failed:\n{log}");
            }
        }
    }
}

/// <summary>An xUnit class fixture: one plain <c>redis-server</c> shared by a test class.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    /// <summary>The running server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
