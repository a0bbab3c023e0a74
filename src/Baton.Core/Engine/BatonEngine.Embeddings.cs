using Baton.Accounting;
using Baton.Configuration;
using Baton.Embeddings;
using Baton.Errors;
using Baton.Providers;
using Baton.Telemetry;

namespace Baton.Engine;

public sealed partial class BatonEngine
{
    /// <summary>
    /// Answers an embeddings request the way <see cref="CompleteAsync(Requests.ChatRequest, CancellationToken)"/> answers a chat request: key limits, the
    /// cache (keyed on the model, the inputs, the encoding and the dimensions), budgets, then the model's
    /// embeddings deployments and its fallbacks, each through its rate limits, retries and circuit breaker. The
    /// usage is the upstream's, or Baton's count when it reports none (Gemini); it is priced and recorded in the ledger.
    /// </summary>
    /// <exception cref="BatonException">The request cannot be answered: a 4xx for the caller's mistakes (a chat model, a key that may not use the model), else the last failure.</exception>
    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var span = RequestTelemetry.Start(telemetry, request.Envelope, time, stream: false, TelemetryTags.Embeddings);
        if (span is null)
        {
            return await EmbedAsync(request, span, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await EmbedAsync(request, span, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            span.Failed(error);
            throw;
        }
        finally
        {
            span.Stop();
        }
    }

    private async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, RequestTelemetry? span, CancellationToken cancellationToken)
    {
        var envelope = request.Envelope;
        envelope.Options = request.Options;
        var plan = new CandidatePlan(catalog, envelope, tasks.Table, Random.Shared, accounting?.Prices, ModelKinds.Embeddings);
        using var keyLease = await AdmitKeyAsync(envelope, cancellationToken).ConfigureAwait(false);
        using var lookup = await LookupAsync(envelope, plan, cancellationToken).ConfigureAwait(false);
        if (lookup.Answer is { } hit)
        {
            keyLease.Complete(0);
            var hitRoute = DescribeHit(plan, hit);
            accounting?.RecordCacheHit(envelope, hitRoute, hit.Usage);
            decimal? hitCost = accounting is null ? null : 0m;
            span?.Succeeded(hitRoute, ProviderTypeOf(hitRoute), hit.Usage, hitCost);
            return new EmbeddingResult(hit.Body, hit.Usage, hitRoute) { CostUsd = hitCost };
        }
        var started = time.GetTimestamp();
        await using var admission = await AdmitAsync(plan, envelope, cancellationToken).ConfigureAwait(false);
        var runner = new AttemptRunner(plan, envelope, span, time, logger, _timeouts);
        var answer = await runner.EmbedAsync(request, cancellationToken).ConfigureAwait(false);
        var (candidate, lease) = runner.Answered;
        var reported = answer.PromptTokens is not null;
        var usage = TokenUsage.Of(answer.PromptTokens ?? PromptTokenCounter.CountPrompt(envelope, cancellationToken), 0);
        lease.Complete(usage, answer.UpstreamRateLimit);
        keyLease.Complete(usage.TotalTokens);
        var body = EmbeddingJson.Write(answer.Vectors, request.EncodingFormat, candidate.Deployment.UpstreamModel, usage);
        lookup.Save(candidate.Route.Name, candidate.Deployment.Id, body, usage);
        var route = runner.Describe(candidate, time.GetElapsedTime(started),
            await candidate.Deployment.RateLimiter.SnapshotAsync(cancellationToken).ConfigureAwait(false)) with { Cache = lookup.Status };
        var result = new EmbeddingResult(body, usage, route) { BudgetWarnings = admission.Warnings };
        if (accounting is not null)
        {
            result.CostUsd = accounting.RecordAttempt(envelope, route, candidate.Deployment, usage, time.GetElapsedTime(started), estimated: !reported);
            await admission.SettleAsync(result.CostUsd.Value).ConfigureAwait(false);
        }
        span?.Succeeded(route, candidate.Deployment.Provider.Type, usage, result.CostUsd);
        return result;
    }
}
