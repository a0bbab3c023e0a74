using Baton.Configuration;
using Baton.Providers;

namespace Baton.Routing;

/// <summary>One (provider, upstream model) pair serving a model, with the parameters in force for it.</summary>
public sealed class Deployment(IChatProvider provider, string upstreamModel, RequestDefaults parameters)
{
    public IChatProvider Provider { get; } = provider;

    public string UpstreamModel { get; } = upstreamModel;

    public RequestDefaults Parameters { get; } = parameters;

    /// <summary>A stable name for headers, logs and metrics: <c>provider/upstream-model</c>.</summary>
    public string Id { get; } = provider.Name + "/" + upstreamModel;
}

/// <summary>A model clients can name, and its deployments in order of preference.</summary>
public sealed class ModelRoute(string name, IReadOnlyList<Deployment> deployments)
{
    public string Name { get; } = name;

    public IReadOnlyList<Deployment> Deployments { get; } = deployments;
}
