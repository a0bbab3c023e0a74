using Baton.Embeddings;
using Baton.Engine;
using Baton.Requests;
using Microsoft.Extensions.AI;

namespace Baton.Client;

/// <summary>
/// Baton as a Microsoft.Extensions.AI <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>: texts in, vectors out,
/// through the same engine as <see cref="BatonChatClient"/> (routing, fallbacks, retries, limits, cache, budgets and
/// costs). Name a model of kind <c>embeddings</c> in <see cref="EmbeddingGenerationOptions.ModelId"/> (or rely on the
/// first one configured); <see cref="EmbeddingGenerationOptions.Dimensions"/> asks for shorter vectors. Session, user,
/// project, fallbacks and cache control are read from <see cref="EmbeddingGenerationOptions.AdditionalProperties"/>
/// under the <see cref="BatonRequestProperties"/> keys, and the route and cost come back in the result's
/// <see cref="GeneratedEmbeddings{TEmbedding}.AdditionalProperties"/> under the <see cref="BatonResponseProperties"/> keys.
/// </summary>
public sealed class BatonEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly BatonEngine _engine;
    private readonly TimeProvider _time;
    private readonly EmbeddingGeneratorMetadata _metadata;

    internal BatonEmbeddingGenerator(BatonEngine engine, string? defaultModel, TimeProvider time)
    {
        _engine = engine;
        _time = time;
        DefaultModel = defaultModel;
        _metadata = new EmbeddingGeneratorMetadata("baton", defaultModelId: defaultModel);
    }

    /// <summary>The model used when a call names none; null when no embeddings model is configured.</summary>
    public string? DefaultModel { get; }

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var model = options?.ModelId ?? DefaultModel ?? throw new InvalidOperationException(
            "No model was named and no model of kind 'embeddings' is configured: set EmbeddingGenerationOptions.ModelId or configure one.");
        // Base64 carries the vectors exactly and is the cheapest to read back.
        var request = EmbeddingRequest.Create(model, [.. values.Select(EmbeddingInput.FromText)], EmbeddingEncodings.Base64, options?.Dimensions);
        request.Options = ReadOptions(options?.AdditionalProperties);
        var started = _time.GetTimestamp();
        var result = await _engine.EmbedAsync(request, cancellationToken).ConfigureAwait(false);
        var created = _time.GetUtcNow();
        var route = result.Route;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(result.ReadVectors().Select(v => new Embedding<float>(v)
        {
            ModelId = route.UpstreamModel,
            CreatedAt = created,
        }))
        {
            Usage = new UsageDetails { InputTokenCount = result.Usage.PromptTokens, TotalTokenCount = result.Usage.PromptTokens },
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                [BatonResponseProperties.Model] = route.Model,
                [BatonResponseProperties.RequestedModel] = route.RequestedModel,
                [BatonResponseProperties.Provider] = route.Provider,
                [BatonResponseProperties.Deployment] = route.Deployment,
                [BatonResponseProperties.UpstreamModel] = route.UpstreamModel,
                [BatonResponseProperties.Attempts] = route.Attempts,
                [BatonResponseProperties.FallbackUsed] = route.FallbackUsed,
                [BatonResponseProperties.Cached] = route.Cache == Caching.CacheStatus.Hit,
                [BatonResponseProperties.ProcessingTimeMs] = _time.GetElapsedTime(started).TotalMilliseconds,
            },
        };
        if (result.CostUsd is { } cost)
        {
            embeddings.AdditionalProperties[BatonResponseProperties.CostUsd] = cost;
        }
        return embeddings;
    }

    private static BatonRequestOptions ReadOptions(AdditionalPropertiesDictionary? properties)
    {
        if (properties is null)
        {
            return BatonRequestOptions.Empty;
        }
        var given = properties.TryGetValue(BatonRequestProperties.RequestOptions, out BatonRequestOptions? whole) && whole is not null ? whole : BatonRequestOptions.Empty;
        var single = new BatonRequestOptions
        {
            SessionId = properties.TryGetValue(BatonRequestProperties.Session, out string? session) ? session : null,
            User = properties.TryGetValue(BatonRequestProperties.UserId, out string? user) ? user : null,
            ProjectId = properties.TryGetValue(BatonRequestProperties.ProjectId, out string? project) ? project : null,
            Fallbacks = properties.TryGetValue(BatonRequestProperties.Fallbacks, out object? fallbacks)
                ? fallbacks switch
                {
                    string list => ChatRequest.SplitModelList(list),
                    IEnumerable<string> names => [.. names],
                    _ => null,
                }
                : null,
        };
        var merged = single.Over(given);
        return properties.TryGetValue(BatonRequestProperties.CacheControl, out string? cacheControl)
            ? merged with { Cache = merged.Cache.WithCacheControl(cacheControl) }
            : merged;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_engine) ? _engine
            : null;
    }

    /// <summary>Nothing to release: the engine belongs to the container.</summary>
    public void Dispose()
    {
    }
}
