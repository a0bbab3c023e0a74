using System.CommandLine;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary><c>baton models</c>: lists the configured models and their deployments.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var command = new Command("models", "List the configured models and the deployments behind them.") { config };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            CommonOptions.AnnounceSource(console, loaded);
            var table = new Table().AddColumn("Model").AddColumn("Provider").AddColumn("Type").AddColumn("Upstream model");
            foreach (var (name, model) in loaded.Options.Models.OrderBy(m => m.Key, StringComparer.OrdinalIgnoreCase))
            {
                foreach (var deployment in model.Deployments)
                {
                    var provider = loaded.Options.Providers[deployment.Provider!];
                    table.AddRow(Markup.Escape(name), Markup.Escape(deployment.Provider!), Markup.Escape(provider.Type!), Markup.Escape(deployment.Model!));
                }
            }
            console.Out.Write(table);
            return 0;
        });
        return command;
    }
}
