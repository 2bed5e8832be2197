using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.Testing;

/// <summary>
/// A real <c>prometheus</c> on a free loopback port, given a config file and a temporary storage
/// folder; started and ready (<c>/-/ready</c>) before it is returned.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly BoundedLog _log;
    private readonly Process _process;

    private PrometheusServer(string directory, int port, Process process, BoundedLog log)
    {
        _log = log;
        Directory = directory;
        Port = port;
        _process = process;
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The HTTP port.</summary>
    public int Port { get; }

    /// <summary>The working folder (config, rules, storage).</summary>
    public string Directory { get; }

    /// <summary>The server's base address.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>A client for the server's HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>What the server printed last, for assertion messages.</summary>
    public string Log => _log.ToString();

    /// <summary>
    /// Starts Prometheus with <paramref name="configYaml"/> as its config. Extra files (rules) are
    /// written beside the config first, so the config can name them by relative path.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string configYaml, IReadOnlyDictionary<string, string>? files = null)
    {
        var executable = ServerProcess.Locate("prometheus", "prometheus");
        var directory = Path.Combine(Path.GetTempPath(), "oc-prom-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        foreach (var (name, content) in files ?? new Dictionary<string, string>())
        {
            var path = Path.Combine(directory, name);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, content);
        }

        var configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, configYaml);
        var port = ServerProcess.FreePort();
        var log = new BoundedLog();
        var process = ServerProcess.Start(
            executable,
            [
                $"--config.file={configPath}",
                $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            log,
            directory);
        var server = new PrometheusServer(directory, port, process, log);
        try
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs an instant query and returns the <c>data.result</c> array.</summary>
    public async Task<JsonElement> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(promql), cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (!response.IsSuccessStatusCode || body.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Query '{promql}' failed ({(int)response.StatusCode}): {body}");
        }

        return body.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary>Polls <paramref name="promql"/> until it returns at least one series or the timeout passes.</summary>
    public async Task<JsonElement> WaitForSeriesAsync(string promql, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await QueryAsync(promql);
            if (result.GetArrayLength() > 0 || watch.Elapsed > timeout)
            {
                return result;
            }

            await Task.Delay(250);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Http.Dispose();
        ServerProcess.Kill(_process);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }

        return ValueTask.CompletedTask;
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode}:\n{_log}");
            }

            try
            {
                using var response = await Http.GetAsync("-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"prometheus was not ready within {timeout}:\n{_log}");
    }
}
