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

    public string? Task { get; private init; }

    public IReadOnlyList<string>? Fallbacks { get; private init; }

    public string? SessionId { get; private init; }

    public string? CacheControl { get; private init; }

    public string? UserId { get; private init; }

    public string? ProjectId { get; private init; }

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
        var context = new BatonCallContext
        {
            Task = properties?.TryGetValue(BatonRequestProperties.Task, out string? task) == true ? task : null,
            SessionId = properties?.TryGetValue(BatonRequestProperties.Session, out string? session) == true ? session : null,
            CacheControl = properties?.TryGetValue(BatonRequestProperties.CacheControl, out string? cacheControl) == true ? cacheControl : null,
            UserId = properties?.TryGetValue(BatonRequestProperties.UserId, out string? user) == true ? user : null,
            ProjectId = properties?.TryGetValue(BatonRequestProperties.ProjectId, out string? project) == true ? project : null,
            PromptContext = properties?.TryGetValue(BatonRequestProperties.Context, out object? given) == true && given is IEnumerable<KeyValuePair<string, object?>> entries
                ? [.. entries.Select(e => KeyValuePair.Create(e.Key, e.Value is null ? null : System.Text.Json.JsonSerializer.SerializeToNode(e.Value, e.Value.GetType())))]
                : null,
            Fallbacks = properties?.TryGetValue(BatonRequestProperties.Fallbacks, out object? fallbacks) == true
                ? fallbacks switch
                {
                    string list => ChatRequest.SplitModelList(list),
                    IEnumerable<string> names => [.. names],
                    _ => null,
                }
                : null,
        };
        CurrentHolder.Value = context;
        return context;
    }

    /// <summary>Gives the request what the call asked for beyond the OpenAI shape.</summary>
    public void ApplyTo(ChatRequest request)
    {
        request.Task ??= Task;
        request.SessionId ??= SessionId;
        request.User ??= UserId;
        request.ProjectId ??= ProjectId;
        request.Fallbacks ??= Fallbacks;
        request.Cache = request.Cache.WithCacheControl(CacheControl);
    }
}
