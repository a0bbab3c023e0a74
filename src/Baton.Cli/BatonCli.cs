using System.CommandLine;
using Baton.Cli.Commands;

namespace Baton.Cli;

/// <summary>The <c>baton</c> command line.</summary>
public static class BatonCli
{
    public static Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("Baton: one OpenAI-compatible API in front of many LLM providers, with routing, fallback, limits, caching and costs.");
        root.Subcommands.Add(ServeCommand.Create(console));
        root.Subcommands.Add(ChatCommand.Create(console));
        root.Subcommands.Add(ModelsCommand.Create(console));
        root.Subcommands.Add(HealthCommand.Create(console));
        root.Subcommands.Add(CacheCommand.Create(console));
        root.Subcommands.Add(BatchCommand.Create(console));
        root.Subcommands.Add(PipelineCommand.Create(console));
        root.Subcommands.Add(AnalyzeCommand.Create(console));
        root.Subcommands.Add(CostsCommand.Create(console));
        root.Subcommands.Add(PricesCommand.Create(console));
        root.Subcommands.Add(KeysCommand.Create(console));
        root.Subcommands.Add(SimulateCommand.Create(console));
        var invocation = new InvocationConfiguration { Output = new SpectreTextWriter(console), Error = console.Error };
        return root.Parse(args).InvokeAsync(invocation, cancellationToken);
    }
}
