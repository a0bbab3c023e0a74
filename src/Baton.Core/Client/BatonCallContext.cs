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

    /// <summary>What the call asked for beyond the OpenAI shape (task, session, fallbacks, identity).</summary>
    public BatonRequestOptions Options { get; private init; } = BatonRequestOptions.Empty;

    public string? CacheControl { get; private init; }

    public Func<RouteInfo>? RouteSource { get; set; }

    public RouteInfo? Route => RouteSource?.Invoke();

    public Func<decimal?>? CostSource { get; set; }

    public decimal? CostUsd => CostSource?.Invoke();

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
            Fallbacks = properties?.TryGetValue(BatonRequestProperties.Fallbacks, out object? fallbacks) == true
                ? fallbacks switch
                {
                    string list => ChatRequest.SplitModelList(list),
                    IEnumerable<string> names => [.. names],
                    _ => null,
                }
                : null,
        };
        var context = new BatonCallContext
        {
            Options = single.Over(given),
            CacheControl = properties?.TryGetValue(BatonRequestProperties.CacheControl, out string? cacheControl) == true ? cacheControl : null,
        };
        CurrentHolder.Value = context;
        return context;
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
