using Baton.Configuration;
using Baton.Simulation;
using Microsoft.Extensions.DependencyInjection;

namespace Baton.Hosting;

/// <summary>Registers the in-process simulator as a provider type.</summary>
public static class SimulatorServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>"type": "simulator"</c> usable in <c>providers</c>: simulated models answering in the same process,
    /// with the pacing and faults described in the simulator documentation. The built-in configuration (no
    /// <c>baton.json</c>) runs on it.
    /// </summary>
    public static IServiceCollection AddBatonSimulator(this IServiceCollection services) =>
        services.AddBatonProviderType(ProviderTypes.Simulator, context => new SimulatorProvider(context));
}
