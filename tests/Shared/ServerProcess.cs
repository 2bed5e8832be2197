using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OptimizedCache.Testing;

/// <summary>
/// Helpers shared by the fixtures that run real servers: free ports, locating executables,
/// and a child process whose output is kept (bounded) for error messages.
/// </summary>
public static class ServerProcess
{
    private const int LowestPort = 20000;
    private static readonly Lock HandedOutLock = new();
    private static readonly HashSet<int> HandedOut = [];
    private static readonly int EphemeralLow = EphemeralRangeStart(); // fixed for the machine: read once

    /// <summary>
    /// A free loopback port for a server to listen on, picked at random below the kernel's ephemeral range
    /// (<c>net.ipv4.ip_local_port_range</c>): a port from that range can be taken as the source port of any outgoing
    /// connection between now and the server's bind, which then fails with "address already in use". No port is
    /// handed out twice by one process. Where the ephemeral range leaves no room below it, the kernel picks.
    /// </summary>
    public static int FreePort()
    {
        if (EphemeralLow - LowestPort >= 1000)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = Random.Shared.Next(LowestPort, EphemeralLow);
                lock (HandedOutLock)
                {
                    if (HandedOut.Contains(port) || !CanListenOn(port))
                    {
                        continue;
                    }

                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var picked = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return picked;
    }

    /// <summary>
    /// A free port for a Redis Cluster node, whose cluster bus listens on the port + 10000: both free, both below the
    /// ephemeral range, neither handed out before by this process.
    /// </summary>
    public static int FreeClusterPort()
    {
        const int BusOffset = 10000;
        for (var attempt = 0; attempt < 500; attempt++)
        {
            // where the ephemeral range is unknown or leaves no room, any port whose bus port is still a port
            var upper = EphemeralLow - BusOffset > LowestPort + 100 ? EphemeralLow - BusOffset : 65535 - BusOffset;
            var port = Random.Shared.Next(LowestPort, upper);
            lock (HandedOutLock)
            {
                if (HandedOut.Contains(port) || HandedOut.Contains(port + BusOffset) || !CanListenOn(port) || !CanListenOn(port + BusOffset))
                {
                    continue;
                }

                HandedOut.Add(port);
                HandedOut.Add(port + BusOffset);
                return port;
            }
        }

        throw new InvalidOperationException("No free pair of ports (node and cluster bus) below the ephemeral range.");
    }

    private static bool CanListenOn(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralRangeStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0; // unknown: let the kernel pick
        }
    }

    /// <summary>
    /// A loopback port that refuses connections for as long as the returned socket is held: bound, never listening, so
    /// no other test's server can take it (a port from <see cref="FreePort"/> may be taken by a parallel test).
    /// </summary>
    public static Socket ReserveRefusingPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>
    /// Finds <paramref name="executable"/> on PATH (or in /usr/sbin, /usr/bin), or throws with the
    /// package that provides it. A missing server is a failure, never a skip.
    /// </summary>
    public static string Locate(string executable, string debianPackage)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"]))
        {
            var candidate = Path.Combine(dir, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"'{executable}' was not found on PATH. Install it with: sudo apt-get install -y {debianPackage}");
    }

    /// <summary>Starts a process with its output captured into a bounded buffer, with extra environment variables.</summary>
    public static Process Start(
        string fileName, IEnumerable<string> arguments, BoundedLog log, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value; // secrets go here, never into the arguments
        }

        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => log.Add(e.Data);
        process.ErrorDataReceived += (_, e) => log.Add(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {fileName}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills the process tree and waits for it to exit.</summary>
    /// <summary>Whether a process runs; a zombie (exited, not yet reaped: state 'Z' in /proc/&lt;pid&gt;/stat) counts as stopped.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Sends a signal (TERM, STOP, CONT...) to a process with <c>kill</c>.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public static void Kill(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Waits until a TCP connection to the loopback port succeeds.</summary>
    public static async Task WaitForPortAsync(int port, Process process, BoundedLog log, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{process.StartInfo.FileName} exited with code {process.ExitCode} before listening on port {port}:\n{log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(25);
            }
        }

        throw new TimeoutException($"{process.StartInfo.FileName} did not listen on port {port} within {timeout}:\n{log}");
    }
}

/// <summary>The last lines a child process printed, kept for error messages.</summary>
public sealed class BoundedLog(int capacity = 200)
{
    private readonly Queue<string> _lines = new();

    /// <summary>Adds a line, dropping the oldest past the capacity.</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > capacity)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        lock (_lines)
        {
            var sb = new StringBuilder();
            foreach (var line in _lines)
            {
                sb.AppendLine(line);
            }

            return sb.ToString();
        }
    }
}
