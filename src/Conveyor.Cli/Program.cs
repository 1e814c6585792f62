using Conveyor.Cli;

return await CliApplication.RunAsync(args, new CliEnvironment(Console.Out, Console.Error, Console.In, Environment.GetEnvironmentVariable));
