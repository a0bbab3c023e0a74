using Baton.Providers;

namespace Baton.Engine;

/// <summary>A complete answer in OpenAI's <c>chat.completion</c> shape, and how it was obtained.</summary>
public sealed class ChatCompletionResult(ProviderCompletion completion, RouteInfo route) : IDisposable
{
    public ReadOnlyMemory<byte> Body => completion.Body;

    public TokenUsage Usage => completion.Usage;

    public RouteInfo Route { get; } = route;

    /// <summary>The answer's cost in US dollars; null when the engine does no accounting.</summary>
    public decimal? CostUsd { get; internal set; }

    /// <summary>Soft budget limits this request may cross (for the <c>x-baton-budget-warning</c> header).</summary>
    public IReadOnlyList<string> BudgetWarnings { get; internal init; } = [];

    public void Dispose() => completion.Dispose();
}

/// <summary>An answer being streamed as OpenAI chunks, and the deployment streaming it.</summary>
public sealed class ChatStreamResult : IAsyncDisposable
{
    private ChatStream stream;
    private readonly StreamBilling? billing;
    private readonly decimal? fixedCost;

    /// <param name="stream">The chunks.</param>
    /// <param name="billing">The accounting of an upstream answer.</param>
    /// <param name="fixedCost">The cost known in advance: 0 for an answer replayed from the cache, when accounting is on.</param>
    internal ChatStreamResult(ChatStream stream, StreamBilling? billing = null, decimal? fixedCost = null)
    {
        this.stream = stream;
        this.billing = billing;
        this.fixedCost = fixedCost;
    }

    /// <summary>Who is answering; after a resumed stream, the deployment that finished it.</summary>
    public RouteInfo Route => stream.Route;

    /// <summary>The usage reported by the stream, once it has been read to the end.</summary>
    public TokenUsage? Usage => stream.Usage;

    /// <summary>
    /// The cost in US dollars of what has been billed so far; null without accounting. An answer read to its end is
    /// billed when it is ended (<see cref="EndAsync"/>, <see cref="GetCostAsync"/>, or disposing of it), and segments whose
    /// usage Baton counts itself (no usage reported) once counted: <see cref="GetCostAsync"/> waits for both.
    /// </summary>
    public decimal? CostUsd => billing?.Cost ?? fixedCost;

    /// <summary>
    /// The answer's cost in US dollars once the stream has ended (every upstream stream it used): an answer read to its
    /// end is recorded first (see <see cref="EndAsync"/>), and the tokens Baton counts in the background when an
    /// upstream reported no usage are waited for; null without accounting.
    /// </summary>
    public async ValueTask<decimal?> GetCostAsync(CancellationToken cancellationToken = default)
    {
        await stream.EndAsync().ConfigureAwait(false);
        return billing is null ? fixedCost : await billing.GetCostAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Soft budget limits this request may cross (known before the first chunk).</summary>
    public IReadOnlyList<string> BudgetWarnings => billing?.BudgetWarnings ?? [];

    public IAsyncEnumerable<StreamChunk> ReadAsync(CancellationToken cancellationToken) => stream.ReadAsync(cancellationToken);

    /// <summary>
    /// Once the answer was read to its end: records it (ledger, budget, cache, span) now rather than when the result is
    /// disposed of. Reading the last chunk does not: a reader such as the gateway sends its client the end of the answer
    /// first. Nothing for an answer not read to its end; once, however often it is called.
    /// </summary>
    public ValueTask EndAsync() => stream.EndAsync();

    /// <summary>The answer's stream, for a wrapper that takes it over (see <see cref="WithStream"/>).</summary>
    internal ChatStream Stream => stream;

    /// <summary>
    /// The same answer read through <paramref name="wrapped"/>, a wrapper of <see cref="Stream"/> that owns it. The
    /// result itself is kept (its billing, cost and key lease are the answer's): only its stream is replaced, before
    /// the result is handed to anyone who reads it.
    /// </summary>
    internal ChatStreamResult WithStream(ChatStream wrapped)
    {
        stream = wrapped;
        return this;
    }

    /// <summary>The caller's key slot, freed (and its tokens corrected) when the stream is disposed.</summary>
    internal Auth.KeyLease KeyLease { get; init; } = Auth.KeyLease.None;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (stream.Usage is { } usage)
            {
                KeyLease.Complete(usage.TotalTokens);
            }
            KeyLease.Dispose();
        }
    }
}
