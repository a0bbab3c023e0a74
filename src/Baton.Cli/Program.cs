using Baton.Cli;

return await BatonCli.RunAsync(args, CliConsole.CreateDefault());
