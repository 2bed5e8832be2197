using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// The AppHost as scripts run it (<c>dotnet OptimizedCache.AppHost.dll</c>, dashboard off, a run folder of its own):
/// it reports its resources in the run folder, keeps its secrets out of every process' arguments, and a SIGTERM
/// stops everything it started.
/// </summary>
[Collection(AppHostCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AppHostProcessTests
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ItReportsItsResourcesKeepsSecretsOutOfArgumentsAndStopsEverythingOnSigterm()
    {
        var configuration = typeof(AppHostProcessTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var appHost = Path.Combine(AppContext.BaseDirectory, "OptimizedCache.AppHost.dll");
        Assert.True(File.Exists(appHost), $"{appHost} is missing ({configuration} build)");
        var run = Path.Combine(Path.GetTempPath(), "oc-apphost-" + Guid.NewGuid().ToString("N")[..12]);
        var adminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var output = new List<string>();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { appHost, "AppHost:Containers=false", "AppHost:Dashboard=false", $"AppHost:RunDirectory={run}" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Parameters__admin-api-key"] = adminKey;
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.Add(e.Data ?? ""); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.Add(e.Data ?? ""); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = Path.Combine(run, "ready");
            var deadline = DateTime.UtcNow + StartupTimeout;
            while (!File.Exists(ready))
            {
                Assert.False(process.HasExited, "the AppHost exited:\n" + string.Join('\n', output.TakeLast(30)));
                Assert.True(DateTime.UtcNow < deadline, "the AppHost did not report ready:\n" + string.Join('\n', output.TakeLast(30)));
                await Task.Delay(250);
            }

            var urls = File.ReadAllLines(Path.Combine(run, "urls")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.Equal(["api-1", "api-2", "cache", "monitoring", "prometheus", "store"], urls.Keys.Order(StringComparer.Ordinal));
            Assert.True(File.Exists(Path.Combine(run, "logs", "api-1.log")), "no log of api-1 in the run folder");

            // the Redis password lives in a file only this user reads; neither secret is in any process' arguments
            var redisConfig = Path.Combine(run, "cache", "redis.conf");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(redisConfig));
            var password = File.ReadAllLines(redisConfig).Single(l => l.StartsWith("requirepass ", StringComparison.Ordinal))["requirepass ".Length..];
            Assert.True(password.Length >= 16, "the generated Redis password is short");
            foreach (var commandLine in AllCommandLines())
            {
                Assert.DoesNotContain(password, commandLine, StringComparison.Ordinal);
                Assert.DoesNotContain(adminKey, commandLine, StringComparison.Ordinal);
            }

            var ports = urls.Values.Select(u => u.Contains("://", StringComparison.Ordinal) ? new Uri(u).Port : int.Parse(u.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.All(ports, port => Assert.True(Accepts(port), $"port {port} does not accept before the stop"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(StopTimeout);
            await process.WaitForExitAsync(wait.Token);
            var stillOpen = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (ports.Any(Accepts) && DateTime.UtcNow < stillOpen)
            {
                await Task.Delay(250);
            }

            Assert.All(ports, port => Assert.False(Accepts(port), $"port {port} still accepts after the AppHost stopped"));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            try
            {
                Directory.Delete(run, recursive: true);
            }
            catch (IOException)
            {
                // best effort: it is under the temp folder
            }
        }
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static IEnumerable<string> AllCommandLines()
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            yield return text;
        }
    }
}
