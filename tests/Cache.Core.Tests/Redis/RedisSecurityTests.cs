using System.Security.Cryptography.X509Certificates;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Redis;

/// <summary>AUTH, ACL users and TLS against real servers, and the errors each misconfiguration gives.</summary>
public sealed class RedisSecurityTests
{
    private const string Password = "s3cret-Pa55";

    [Fact]
    public async Task AuthenticatesWithThePassword()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = Password });
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);

        await client.SetAsync("k", "v");

        Assert.Equal("v", await client.GetStringAsync("k"));
    }

    [Fact]
    public async Task AWrongPasswordSaysSoWithoutShowingIt()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = Password });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(
            () => RedisClient.ConnectAsync($"127.0.0.1:{server.Port},password=wrong-Guess-123"));

        Assert.Contains("WRONGPASS", ex.Message);
        Assert.Contains("password is wrong", ex.Message);
        Assert.DoesNotContain("wrong-Guess-123", ex.ToString());
    }

    [Fact]
    public async Task AMissingPasswordSaysAuthenticationIsRequired()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = Password });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync($"127.0.0.1:{server.Port}"));

        Assert.Contains("requires authentication", ex.Message);
    }

    [Fact]
    public async Task AuthenticatesAnAclUserAndReportsNoPermAsAServerError()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions
        {
            AclUsers = ["user reader on >reader-pw ~* +@read +ping +info"],
        });
        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{server.Port},user=reader,password=reader-pw");

        Assert.Null(await client.GetAsync("k"));
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => client.SetAsync("k", "v"));

        Assert.Equal("NOPERM", ex.ErrorCode);
        Assert.Equal("SET", ex.Command);
    }

    [Fact]
    public async Task AnUnknownAclUserNamesTheUser()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions
        {
            AclUsers = ["user reader on >reader-pw ~* +@all"],
        });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(
            () => RedisClient.ConnectAsync($"127.0.0.1:{server.Port},user=nobody,password=reader-pw"));

        Assert.Contains("'nobody'", ex.Message);
        Assert.DoesNotContain("reader-pw", ex.ToString());
    }

    [Fact]
    public async Task AnAclUserWithoutPermissionForTheHandshakeIsTold()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions
        {
            AclUsers = ["user limited on >limited-pw ~* +get +ping"],
        });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(
            () => RedisClient.ConnectAsync($"127.0.0.1:{server.Port},user=limited,password=limited-pw,name=app"));

        Assert.Contains("NOPERM", ex.Message);
        Assert.Contains("CLIENT SETNAME", ex.Message);
    }

    [Fact]
    public async Task ConnectsOverTlsTrustingTheTestCa()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true });
        var options = TlsOptions(server);
        await using var client = await RedisClient.ConnectAsync(options);

        await client.SetAsync("tls", "yes");

        Assert.Equal("yes", await client.GetStringAsync("tls"));
    }

    [Fact]
    public async Task PresentsAClientCertificateWhenTheServerRequiresOne()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true, RequireClientCertificate = true });
        var options = TlsOptions(server);
        options.ClientCertificate = X509Certificate2.CreateFromPemFile(server.ClientCertificatePath, server.ClientKeyPath);

        await using var client = await RedisClient.ConnectAsync(options);

        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task AMissingClientCertificateFailsTheConnection()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true, RequireClientCertificate = true });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(TlsOptions(server)));

        Assert.Contains(server.TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Fact]
    public async Task AnUntrustedServerCertificateIsRejectedWithTheReason()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true });
        var options = TlsOptions(server);
        options.TrustedCaCertificates = null;

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(options));

        Assert.Contains("certificate was rejected", ex.Message);
    }

    [Fact]
    public async Task TlsAgainstAPlainPortSaysTheHandshakeFailed()
    {
        await using var server = await RedisServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(
            () => RedisClient.ConnectAsync($"127.0.0.1:{server.Port},ssl=true,connectRetry=1,connectTimeout=2000"));

        Assert.Contains("TLS handshake", ex.Message);
    }

    [Fact]
    public async Task PlainTextAgainstATlsPortSuggestsSsl()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true });

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(
            () => RedisClient.ConnectAsync($"127.0.0.1:{server.TlsPort},connectRetry=1,connectTimeout=2000"));

        Assert.Contains("ssl=true", ex.Message);
    }

    private static RedisConnectionOptions TlsOptions(RedisServer server)
    {
        var options = RedisConnectionOptions.Parse($"127.0.0.1:{server.TlsPort},ssl=true,sslHost=localhost,connectRetry=1");
        options.TrustedCaCertificates = [X509CertificateLoader.LoadCertificateFromFile(server.CaCertificatePath)];
        return options;
    }
}
