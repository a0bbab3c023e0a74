using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Baton.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
