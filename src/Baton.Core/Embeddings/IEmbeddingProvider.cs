using Baton.RateLimiting;

namespace Baton.Embeddings;

/// <summary>
/// A provider that also serves embeddings, in its own wire format. Whatever the format, it returns one vector per
/// input, in the inputs' order, and the prompt tokens the upstream reported (null when it reports none).
/// Failures are <see cref="Errors.BatonException"/>s carrying the provider's name and upstream status, as for chat.
/// </summary>
public interface IEmbeddingProvider
{
    /// <summary>Asks the upstream for the vectors of <paramref name="request"/>'s inputs.</summary>
    Task<ProviderEmbeddings> EmbedAsync(EmbeddingProviderRequest request, CancellationToken cancellationToken);
}

/// <summary>An embeddings request for one deployment: the client's request, the upstream model id, and the bound of this attempt.</summary>
public sealed record EmbeddingProviderRequest(EmbeddingRequest Embedding, string UpstreamModel, TimeSpan? AttemptTimeout = null);

/// <summary>The vectors an upstream answered, one per input in order, and the prompt tokens it reported.</summary>
public sealed class ProviderEmbeddings(IReadOnlyList<float[]> vectors, int? promptTokens)
{
    /// <summary>One vector per input, in the inputs' order.</summary>
    public IReadOnlyList<float[]> Vectors { get; } = vectors;

    /// <summary>The tokens the upstream billed; null when it reports none (Gemini), and Baton counts them.</summary>
    public int? PromptTokens { get; } = promptTokens;

    /// <summary>What the upstream's rate-limit headers said about its limits, if it sent them.</summary>
    public UpstreamRateLimit? UpstreamRateLimit { get; set; }
}
