using Baton.Engine;
using Baton.Requests;
using Microsoft.Extensions.AI;

namespace Baton.Client;

/// <summary>
/// Carries one library call's Baton-specific inputs (task, fallbacks, session) from <see cref="BatonChatClient"/>
/// to the in-process transport, and the route back, across the OpenAI SDK that sits between them. The client
/// puts a fresh holder in place before each call; the transport, running in the same asynchronous flow, uses it.
/// </summary>
internal sealed class BatonCallContext
{
    private static readonly AsyncLocal<BatonCallContext?> CurrentHolder = new();

    public static BatonCallContext? Current => CurrentHolder.Value;

    /// <summary>What the call asked for beyond the OpenAI shape (task, session, fallbacks, user, project, identity).</summary>
    public BatonRequestOptions Options { get; private init; } = BatonRequestOptions.Empty;

    public string? CacheControl { get; private init; }

    /// <summary>The call's prompt context, as JSON values; null when none was given.</summary>
    public IReadOnlyList<KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>>? PromptContext { get; private init; }

    public Func<RouteInfo>? RouteSource { get; set; }

    public RouteInfo? Route => RouteSource?.Invoke();

    /// <summary>The call's cost, read when the caller has its answer (a stream's may wait for tokens Baton counts itself).</summary>
    public Func<CancellationToken, ValueTask<decimal?>>? CostSource { get; set; }

    public ValueTask<decimal?> GetCostAsync(CancellationToken cancellationToken) =>
        CostSource?.Invoke(cancellationToken) ?? ValueTask.FromResult<decimal?>(null);

    public static BatonCallContext For(ChatOptions? options)
    {
        var properties = options?.AdditionalProperties;
        // Options given whole (a pipeline run for a caller carries the caller's identity this way), then the single keys over them.
        var given = properties?.TryGetValue(BatonRequestProperties.RequestOptions, out BatonRequestOptions? whole) == true && whole is not null
            ? whole
            : BatonRequestOptions.Empty;
        var single = new BatonRequestOptions
        {
            Task = properties?.TryGetValue(BatonRequestProperties.Task, out string? task) == true ? task : null,
            SessionId = properties?.TryGetValue(BatonRequestProperties.Session, out string? session) == true ? session : null,
            User = properties?.TryGetValue(BatonRequestProperties.UserId, out string? user) == true ? user : null,
            ProjectId = properties?.TryGetValue(BatonRequestProperties.ProjectId, out string? project) == true ? project : null,
            Fallbacks = properties?.TryGetValue(BatonRequestProperties.Fallbacks, out object? fallbacks) == true
                ? fallbacks switch
                {
                    string list => ChatRequest.SplitModelList(list),
                    IEnumerable<string> names => [.. names],
                    _ => null,
                }
                : null,
        };
        var call = new BatonCallContext
        {
            Options = single.Over(given),
            CacheControl = properties?.TryGetValue(BatonRequestProperties.CacheControl, out string? cacheControl) == true ? cacheControl : null,
            PromptContext = properties?.TryGetValue(BatonRequestProperties.Context, out object? context) == true && context is IEnumerable<KeyValuePair<string, object?>> entries
                ? [.. entries.Select(e => KeyValuePair.Create(e.Key, e.Value is null ? null : System.Text.Json.JsonSerializer.SerializeToNode(e.Value, e.Value.GetType())))]
                : null,
        };
        CurrentHolder.Value = call;
        return call;
    }

    /// <summary>
    /// Gives the request what the call asked for beyond the OpenAI shape, merged once: the body's metadata wins
    /// where it speaks, the call fills in the rest, and the call's cache control applies over the body's.
    /// </summary>
    public void ApplyTo(ChatRequest request)
    {
        var merged = request.Options.Over(Options);
        request.Options = merged with { Cache = merged.Cache.WithCacheControl(CacheControl) };
    }
}
