using BenchmarkDotNet.Running;

// Run by hand, in Release: dotnet run -c Release --project tests/Benchmarks -- --filter '*'
// Figures are recorded in docs/benchmarks.md with the command that produced them.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
