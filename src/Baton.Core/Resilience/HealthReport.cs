using System.Text;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Resilience;

/// <summary>One deployment's health as reported by <c>GET /health/providers</c> and <c>baton health</c>.</summary>
public sealed record DeploymentHealthReport(
    string Deployment,
    string Provider,
    string ProviderType,
    string UpstreamModel,
    IReadOnlyList<string> Models,
    HealthSnapshot Health,
    ProbeResult? Probe);

/// <summary>The outcome of one active check: a minimal request sent straight to the deployment.</summary>
public sealed record ProbeResult(bool Ok, double LatencyMs, string? Error);

/// <summary>
/// Reports the health of every deployment (seed 003's <c>health_check_all</c>): from what live traffic has
/// shown, and, when asked, from an active probe of each deployment in parallel.
/// </summary>
public sealed class HealthReport(ModelCatalog catalog, TimeProvider time)
{
    private static readonly byte[] ProbeBody = Encoding.UTF8.GetBytes(
        """{"model":"probe","messages":[{"role":"user","content":"ping"}],"max_tokens":1}""");

    /// <summary>Bound of one probe; a probe that takes longer says the deployment is unfit anyway.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Every configured deployment's health, with the models that route to it.</summary>
    /// <param name="probe">Also send each deployment a one-token request (an embeddings deployment, a one-word input), all in parallel, each bounded by <see cref="ProbeTimeout"/>; its outcome counts in the deployment's health.</param>
    /// <param name="cancellationToken">Stops the probes.</param>
    public async Task<IReadOnlyList<DeploymentHealthReport>> CheckAsync(bool probe, CancellationToken cancellationToken)
    {
        var models = catalog.Models
            .SelectMany(m => m.Deployments.Select(d => (d.Id, Model: m.Name)))
            .GroupBy(x => x.Id, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(x => x.Model).Order(StringComparer.OrdinalIgnoreCase).ToList(), StringComparer.OrdinalIgnoreCase);

        // An embeddings deployment is probed with an embeddings request: it may answer no chat at all.
        var embeddings = catalog.Models.Where(m => m.Kind == Configuration.ModelKinds.Embeddings)
            .SelectMany(m => m.Deployments).Select(d => d.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var probes = probe
            ? await Task.WhenAll(catalog.Deployments.Select(d => ProbeAsync(d, embeddings.Contains(d.Id), cancellationToken))).ConfigureAwait(false)
            : new ProbeResult?[catalog.Deployments.Count];

        return catalog.Deployments
            .Select((d, i) => new DeploymentHealthReport(d.Id, d.Provider.Name, d.Provider.Type, d.UpstreamModel, models[d.Id], d.Resilience.Snapshot(), probes[i]))
            .ToList();
    }

    /// <summary>The worst state among deployments, as one word: <c>ok</c>, <c>degraded</c> or <c>unavailable</c>.</summary>
    public static string Overall(IReadOnlyList<DeploymentHealthReport> reports)
    {
        if (reports.Count > 0 && reports.All(r => r.Health.State == HealthState.Unavailable))
        {
            return "unavailable";
        }
        return reports.Any(r => r.Health.State is HealthState.Unavailable or HealthState.Degraded) ? "degraded" : "ok";
    }

    private async Task<ProbeResult?> ProbeAsync(Deployment deployment, bool embeds, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            if (embeds && deployment.Provider is Embeddings.IEmbeddingProvider embedder)
            {
                var ping = Embeddings.EmbeddingRequest.Create("probe", [Embeddings.EmbeddingInput.FromText("ping")]);
                await embedder.EmbedAsync(new Embeddings.EmbeddingProviderRequest(ping, deployment.UpstreamModel, ProbeTimeout), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var request = new ProviderRequest(ChatRequestParser.Parse(ProbeBody), deployment.UpstreamModel, deployment.Parameters, ProbeTimeout);
                using var completion = await deployment.Provider.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
            }
            var latency = time.GetElapsedTime(started);
            deployment.Resilience.Health.RecordSuccess(latency);
            return new ProbeResult(true, latency.TotalMilliseconds, null);
        }
        catch (BatonException error)
        {
            // Keys were removed from provider errors where they were made.
            deployment.Resilience.Health.RecordFailure(error.Message);
            return new ProbeResult(false, time.GetElapsedTime(started).TotalMilliseconds, error.Message);
        }
    }
}
