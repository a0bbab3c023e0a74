using Baton.Client;
using Baton.Configuration;
using Baton.Pipelines;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Hosting;

/// <summary>Registers the pipelines named in <c>pipelines</c> and the runner that runs them.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="PipelineCatalog"/> of the configured pipeline files and a <see cref="PipelineRunner"/>
    /// on Baton's chat client (call <c>AddBaton</c> too). The files are read when the catalog is first resolved; call
    /// <see cref="PipelineCatalog.Validate"/> at start-up to report their problems with the rest of the configuration.
    /// </summary>
    public static IServiceCollection AddBatonPipelines(this IServiceCollection services)
    {
        services.AddSingleton(sp => PipelineCatalog.Create(sp.GetRequiredService<BatonOptions>()));
        services.AddSingleton(sp => new PipelineRunner(sp.GetRequiredService<BatonChatClient>(), sp.GetRequiredService<TimeProvider>(),
            modelIdentity: PipelineModelIdentity.For(sp.GetRequiredService<BatonOptions>())));
        return services;
    }
}
