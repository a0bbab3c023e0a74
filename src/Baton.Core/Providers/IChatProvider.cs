using Baton.Configuration;
using Baton.RateLimiting;
using Baton.Requests;

namespace Baton.Providers;

/// <summary>
/// One configured upstream provider, speaking its own wire format. Whatever the format, a provider returns
/// OpenAI-shaped answers: a <c>chat.completion</c> body, or a stream of <c>chat.completion.chunk</c> payloads.
/// Failures are <see cref="Errors.BatonException"/>s carrying the provider's name and upstream status.
/// </summary>
public interface IChatProvider
{
    /// <summary>The provider's configured name, e.g. <c>openrouter</c>.</summary>
    string Name { get; }

    /// <summary>The provider's type, one of <see cref="ProviderTypes"/>.</summary>
    string Type { get; }

    Task<ProviderCompletion> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>Starts a stream; returns once the upstream has accepted the request.</summary>
    Task<ProviderStream> StreamAsync(ProviderRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A request for one deployment: the client's request, the upstream model id, the parameters in force, and
/// the bound of this attempt (when null, the provider's own timeout; <see cref="Timeout.InfiniteTimeSpan"/> when the
/// request's total timeout ends first, so that it alone bounds the attempt).
/// </summary>
public sealed record ProviderRequest(ChatRequest Chat, string UpstreamModel, RequestDefaults Parameters, TimeSpan? AttemptTimeout = null);

/// <summary>A complete answer: an OpenAI <c>chat.completion</c> JSON body and its usage.</summary>
public sealed class ProviderCompletion(ReadOnlyMemory<byte> body, TokenUsage usage, IDisposable? owner = null) : IDisposable
{
    public ReadOnlyMemory<byte> Body { get; } = body;

    public TokenUsage Usage { get; } = usage;

    /// <summary>What the upstream's rate-limit headers said about its limits, if it sent them.</summary>
    public UpstreamRateLimit? UpstreamRateLimit { get; set; }

    private OpenAi.CompletionFacts? _facts;

    /// <summary>
    /// What the engine, the cache and the span read from <see cref="Body"/>, read once: by the provider that already
    /// read the body for its usage, else on first use. Valid until the completion is disposed.
    /// </summary>
    internal OpenAi.CompletionFacts Facts
    {
        get => _facts ??= OpenAi.CompletionFacts.ReadOrNone(Body);
        init => _facts = value;
    }

    public void Dispose() => owner?.Dispose();
}

/// <summary>One OpenAI <c>chat.completion.chunk</c> payload (the JSON after <c>data: </c>).</summary>
/// <param name="Json">Valid until the next chunk is read.</param>
/// <param name="IsUsageOnly">The final chunk that carries only usage (sent when the client asked for it).</param>
/// <param name="Reading">
/// The one reading of <paramref name="Json"/> taken where the chunk entered Baton, valid as long as the bytes are;
/// null for a chunk built or rewritten on the way. Read it with <see cref="OpenAi.StreamChunkReader.Of"/>, which
/// reads the chunk afresh when the reading is missing or describes other bytes.
/// </param>
public readonly record struct StreamChunk(ReadOnlyMemory<byte> Json, bool IsUsageOnly, OpenAi.StreamChunkReader? Reading = null);

/// <summary>
/// An answer arriving as OpenAI chunks. Enumeration ends normally only when the upstream ended the answer
/// properly; a stream cut short throws a <see cref="Errors.BatonException"/> with code <c>stream_interrupted</c>.
/// </summary>
public abstract class ProviderStream : IAsyncDisposable
{
    /// <summary>The usage reported by the stream, once seen.</summary>
    public TokenUsage? Usage { get; protected set; }

    /// <summary>What the upstream's rate-limit headers said about its limits, if it sent them.</summary>
    public UpstreamRateLimit? UpstreamRateLimit { get; set; }

    public abstract IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
