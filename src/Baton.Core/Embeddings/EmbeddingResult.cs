using Baton.Engine;
using Baton.Providers;

namespace Baton.Embeddings;

/// <summary>An embeddings answer in OpenAI's shape (<c>{"object":"list","data":[...],"model","usage"}</c>), and how it was obtained.</summary>
public sealed class EmbeddingResult
{
    internal EmbeddingResult(ReadOnlyMemory<byte> body, TokenUsage usage, RouteInfo route)
    {
        Body = body;
        Usage = usage;
        Route = route;
    }

    /// <summary>The answer's JSON, with the vectors in the encoding the request asked for.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The prompt tokens (reported by the upstream, else counted by Baton); embeddings have no completion tokens.</summary>
    public TokenUsage Usage { get; }

    /// <summary>Who answered: the model, provider and deployment, the attempts it took and the upstream's time.</summary>
    public RouteInfo Route { get; }

    /// <summary>The answer's cost in US dollars; null when the engine does no accounting.</summary>
    public decimal? CostUsd { get; internal set; }

    /// <summary>Soft budget limits this request may cross (for the <c>x-baton-budget-warning</c> header).</summary>
    public IReadOnlyList<string> BudgetWarnings { get; internal init; } = [];

    /// <summary>The vectors of <see cref="Body"/>, one per input in order, whichever encoding it holds.</summary>
    public IReadOnlyList<float[]> ReadVectors() => EmbeddingJson.ReadVectors(Body.Span, "Baton", out _);
}
