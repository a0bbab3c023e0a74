using System.CommandLine;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary><c>baton models</c>: lists the configured models and their deployments.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var format = CommonOptions.Format();
        var command = new Command("models", "List the configured models and the deployments behind them.") { config, format };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            var models = loaded.Options.Models.OrderBy(m => m.Key, StringComparer.OrdinalIgnoreCase)
                .Select(m => new ModelView(m.Key, m.Value.Deployments
                    .Select(d => new DeploymentView(d.Provider!, loaded.Options.Providers[d.Provider!].Type!, d.Model!)).ToList(), m.Value.Fallbacks))
                .ToList();
            if (parse.GetValue(format) == CommonOptions.JsonFormat)
            {
                CommonOptions.WriteJson(console, new { models });
                return 0;
            }
            CommonOptions.AnnounceSource(console, loaded);
            var table = new Table().AddColumn("Model").AddColumn("Provider").AddColumn("Type").AddColumn("Upstream model");
            foreach (var model in models)
            {
                foreach (var deployment in model.Deployments)
                {
                    table.AddRow(Markup.Escape(model.Name), Markup.Escape(deployment.Provider), Markup.Escape(deployment.Type), Markup.Escape(deployment.UpstreamModel));
                }
            }
            console.Out.Write(table);
            return 0;
        });
        return command;
    }

    private sealed record ModelView(string Name, IReadOnlyList<DeploymentView> Deployments, IReadOnlyList<string> Fallbacks);

    private sealed record DeploymentView(string Provider, string Type, string UpstreamModel);
}
