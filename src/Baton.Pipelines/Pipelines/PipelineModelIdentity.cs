using Baton.Configuration;

namespace Baton.Pipelines;

/// <summary>
/// What a configured model name stands for: each of its deployments' provider type, endpoint and upstream
/// model, in order. Cached pipeline results are keyed by it, so moving a name from the simulator to OpenRouter
/// (or to another upstream model) makes the old answers stale instead of passing them off as the new model's.
/// </summary>
public static class PipelineModelIdentity
{
    public static Func<string, string> For(BatonOptions options) => model =>
    {
        if (!options.Models.TryGetValue(model, out var configured))
        {
            return model;
        }
        return model + "=" + string.Join(";", configured.Deployments.Select(d =>
        {
            var provider = d.Provider is not null ? options.Providers.GetValueOrDefault(d.Provider) : null;
            return $"{provider?.Type}|{provider?.BaseUrl}|{d.Model}";
        }));
    };
}
