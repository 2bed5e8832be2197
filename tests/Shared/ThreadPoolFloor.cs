using System.Runtime.CompilerServices;

namespace OptimizedCache.Testing;

/// <summary>
/// Raises the thread pool's floor in every test process. Tests block on asynchronous work in places (synchronous
/// disposal of caches that close a Redis connection, conditions polled synchronously) while xUnit runs test classes in
/// parallel; on a 2-core machine the pool starts with two threads, those are soon all blocked, and the Redis client's
/// continuations then wait for the pool to add threads (about two a second): half-second stalls that read as Redis
/// latency and break tests with short windows. With a floor of 32 the tests measure the code, not the pool's ramp-up.
/// </summary>
internal static class ThreadPoolFloor
{
#pragma warning disable CA2255 // a test assembly is a process's own code here, not a library others load
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(completionPorts, 32));
    }
}
