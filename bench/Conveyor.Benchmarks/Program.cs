using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Conveyor.Benchmarks -- --filter '*'       (see bench/README.md)
BenchmarkSwitcher.FromAssembly(typeof(Conveyor.Benchmarks.SampleJob).Assembly).Run(args);
