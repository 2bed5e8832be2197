using System.Reflection;
using BenchmarkDotNet.Running;
using OptimizedCache.Benchmarks;

// Run by hand, in Release. Figures go to docs/benchmarks.md with the command that produced them.
//   dotnet run -c Release --project tests/Benchmarks -- --filter '*'        BenchmarkDotNet suites
//   dotnet run -c Release --project tests/Benchmarks -- <tool> [options]     measuring tools (list: --tools)
var tools = typeof(Program).Assembly.GetTypes()
    .Where(t => typeof(IMeasuringTool).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IMeasuringTool)Activator.CreateInstance(t)!)
    .ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

if (args is ["--tools"])
{
    foreach (var tool in tools.Values.OrderBy(t => t.Name))
    {
        Console.WriteLine($"{tool.Name,-24} {tool.Description}");
    }

    return 0;
}

if (args.Length > 0 && tools.TryGetValue(args[0], out var selected))
{
    return await selected.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

namespace OptimizedCache.Benchmarks
{
    /// <summary>A measuring tool run by name (load generators and simulations that are not BenchmarkDotNet suites).</summary>
    public interface IMeasuringTool
    {
        /// <summary>The name given on the command line.</summary>
        string Name { get; }

        /// <summary>One line for <c>--tools</c>.</summary>
        string Description { get; }

        /// <summary>Runs the tool; returns the process exit code.</summary>
        Task<int> RunAsync(string[] args);
    }
}
