using Baton.Cli;

// Before anything opens a socket: the runtime reads this setting once, with the process's first socket.
SocketCompletions.PreferInline(Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);
return await BatonCli.RunAsync(args, CliConsole.CreateDefault());
