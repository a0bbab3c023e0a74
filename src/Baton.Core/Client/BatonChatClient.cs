using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Baton.Engine;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Baton.Client;

/// <summary>
/// Baton as a Microsoft.Extensions.AI <see cref="IChatClient"/>. Name a configured model in
/// <see cref="ChatOptions.ModelId"/> (or rely on the default model). Each response says who answered in
/// <see cref="ChatResponse.AdditionalProperties"/> (see <see cref="BatonResponseProperties"/>): the provider,
/// the deployment, the number of attempts and the processing time; usage is in <see cref="ChatResponse.Usage"/>.
/// To route by task, set the model to <c>auto</c> and put the task in <see cref="ChatOptions.AdditionalProperties"/>
/// under <see cref="BatonRequestProperties.Task"/>; fallbacks for one call go under <see cref="BatonRequestProperties.Fallbacks"/>.
/// </summary>
public sealed class BatonChatClient : DelegatingChatClient
{
    private readonly string _defaultModel;
    private readonly TimeProvider _time;

    internal BatonChatClient(BatonEngine engine, string defaultModel, TimeProvider time)
        : base(CreateInner(engine, defaultModel))
    {
        _defaultModel = defaultModel;
        _time = time;
    }

    /// <summary>The model used when a call names none.</summary>
    public string DefaultModel => _defaultModel;

    /// <summary>
    /// Sends the conversation through Baton (routing, key limits, budget, cache, retries, fallbacks, accounting) and
    /// returns the complete answer. Besides the model's reply, the response's <c>AdditionalProperties</c> say how it was
    /// obtained, under the names of <see cref="BatonResponseProperties"/>: model, deployment, attempts, cache, cost, time.
    /// </summary>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="options">The model (else <see cref="DefaultModel"/>) and parameters; Baton's own settings (task, session, cache, tracking) are set with the <c>With*</c> extensions.</param>
    /// <param name="cancellationToken">Stops the request, upstream calls included.</param>
    /// <exception cref="Errors.BatonException">The request was refused (bad input, unknown model, key or budget limit) or no deployment could answer it.</exception>
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var context = BatonCallContext.For(options);
        var started = _time.GetTimestamp();
        var response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(started);
        Annotate(response.AdditionalProperties ??= [], context, await context.GetCostAsync(cancellationToken).ConfigureAwait(false), elapsed);
        return response;
    }

    /// <summary>
    /// Streams the answer as the upstream produces it, through Baton as <see cref="GetResponseAsync"/> does. A stream cut
    /// by the upstream is resumed on another deployment when it can be; one that cannot be resumed fails rather than
    /// ending as if it were complete.
    /// The last update is empty and carries the <see cref="BatonResponseProperties"/>, so that
    /// <c>ToChatResponse()</c> merges them into the response's <c>AdditionalProperties</c>.
    /// </summary>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="options">The model (else <see cref="DefaultModel"/>) and parameters.</param>
    /// <param name="cancellationToken">Stops the stream, upstream call included.</param>
    /// <exception cref="Errors.BatonException">The request was refused, or no deployment could start the answer.</exception>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var context = BatonCallContext.For(options);
        var started = _time.GetTimestamp();
        string? responseId = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            responseId ??= update.ResponseId;
            yield return update;
        }

        // A last, empty update carries the route, so ToChatResponse() merges it into the response's properties.
        var properties = new AdditionalPropertiesDictionary();
        var elapsed = _time.GetElapsedTime(started);
        Annotate(properties, context, await context.GetCostAsync(cancellationToken).ConfigureAwait(false), elapsed);
        yield return new ChatResponseUpdate { ResponseId = responseId, Role = ChatRole.Assistant, AdditionalProperties = properties };
    }

    private static void Annotate(AdditionalPropertiesDictionary properties, BatonCallContext context, decimal? cost, TimeSpan elapsed)
    {
        properties[BatonResponseProperties.ProcessingTimeMs] = elapsed.TotalMilliseconds;
        if (cost is not null)
        {
            properties[BatonResponseProperties.CostUsd] = cost;
        }
        var route = context.Route;
        if (route is null)
        {
            return;
        }
        properties[BatonResponseProperties.Model] = route.Model;
        properties[BatonResponseProperties.Provider] = route.Provider;
        properties[BatonResponseProperties.Deployment] = route.Deployment;
        properties[BatonResponseProperties.UpstreamModel] = route.UpstreamModel;
        properties[BatonResponseProperties.Attempts] = route.Attempts;
        properties[BatonResponseProperties.RequestedModel] = route.RequestedModel;
        properties[BatonResponseProperties.FallbackUsed] = route.FallbackUsed;
        properties[BatonResponseProperties.StreamResumed] = route.StreamResumed;
        properties[BatonResponseProperties.Cached] = route.Cache == Caching.CacheStatus.Hit;
        if (route.Tier is not null)
        {
            properties[BatonResponseProperties.Task] = route.Task;
            properties[BatonResponseProperties.Tier] = route.Tier;
        }
        if (route.RateLimit is { } limit)
        {
            properties[BatonResponseProperties.RateLimitRemaining] = limit.RemainingRequests ?? limit.RemainingTokens;
            properties[BatonResponseProperties.RateLimitReset] = limit.RequestsResetAt ?? limit.TokensResetAt;
        }
    }

    private static IChatClient CreateInner(BatonEngine engine, string defaultModel)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri("http://baton.in-process/v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(new InProcessTransport(engine)) { Timeout = Timeout.InfiniteTimeSpan }),
            // Baton does its own retrying and timing out; the SDK must not add its own on top.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromDays(1),
        };
        var client = new OpenAIClient(new ApiKeyCredential("in-process"), options);
        return client.GetChatClient(defaultModel).AsIChatClient();
    }
}

/// <summary>Keys Baton reads from <see cref="ChatOptions.AdditionalProperties"/>.</summary>
public static class BatonRequestProperties
{
    /// <summary>The task to route by (with the model <c>auto</c>), as the <c>X-Baton-Task</c> header does.</summary>
    public const string Task = "baton.task";

    /// <summary>Models to fall back to for this call, comma-separated or a list of strings.</summary>
    public const string Fallbacks = "baton.fallbacks";

    /// <summary>The cache's say for this call, as a <c>Cache-Control</c> value: <c>no-cache</c>, <c>no-store</c>, <c>max-age=N</c>.</summary>
    public const string CacheControl = "baton.cache_control";

    /// <summary>The session the call belongs to, for cost tracking.</summary>
    public const string Session = "baton.session_id";

    /// <summary>
    /// A whole <see cref="Requests.BatonRequestOptions"/> value for the call (e.g. the caller's identity for a
    /// pipeline run on its behalf); the single keys above apply over it.
    /// </summary>
    public const string RequestOptions = "baton.request_options";

    /// <summary>The end user the call is made for, for cost tracking and budgets (the ledger's <c>user</c>).</summary>
    public const string UserId = "baton.user_id";

    /// <summary>The project the call is for, for cost tracking (the ledger's <c>project</c>).</summary>
    public const string ProjectId = "baton.project_id";

    /// <summary>
    /// Named background for the prompt (an <c>IEnumerable&lt;KeyValuePair&lt;string, object?&gt;&gt;</c>, e.g. a
    /// dictionary): rendered into the last user message, one labelled section per key. See
    /// <see cref="BatonChatOptionsExtensions.WithContext"/>.
    /// </summary>
    public const string Context = "baton.context";
}

/// <summary>Baton's per-call inputs on <see cref="ChatOptions"/>.</summary>
public static class BatonChatOptionsExtensions
{
    /// <summary>
    /// Adds named background to the prompt (existing code, a project's layout, the errors to expect): each entry is
    /// rendered into the last user message as a labelled section, text as it is and anything else as JSON.
    /// Entries given by several calls accumulate; a key given again replaces its value.
    /// </summary>
    public static ChatOptions WithContext(this ChatOptions options, IEnumerable<KeyValuePair<string, object?>> context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        options.AdditionalProperties ??= [];
        var merged = options.AdditionalProperties.TryGetValue(BatonRequestProperties.Context, out var existing) && existing is IEnumerable<KeyValuePair<string, object?>> earlier
            ? new Dictionary<string, object?>(earlier, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in context)
        {
            merged[key] = value;
        }
        options.AdditionalProperties[BatonRequestProperties.Context] = merged;
        return options;
    }

    /// <summary>Tags the call with who and what it is for (the ledger's <c>user</c>, <c>project</c> and <c>session</c>).</summary>
    public static ChatOptions WithTracking(this ChatOptions options, string? userId = null, string? projectId = null, string? sessionId = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AdditionalProperties ??= [];
        foreach (var (key, value) in new[] { (BatonRequestProperties.UserId, userId), (BatonRequestProperties.ProjectId, projectId), (BatonRequestProperties.Session, sessionId) })
        {
            if (value is not null)
            {
                options.AdditionalProperties[key] = value;
            }
        }
        return options;
    }
}

/// <summary>Keys of the properties Baton adds to every <see cref="ChatResponse"/>.</summary>
public static class BatonResponseProperties
{
    /// <summary>The configured model that answered (a fallback's name when one was used).</summary>
    public const string Model = "baton.model";

    /// <summary>The configured model that was asked for.</summary>
    public const string RequestedModel = "baton.requested_model";

    /// <summary>True when a fallback model answered (seed 002's <c>fallback_used</c>).</summary>
    public const string FallbackUsed = "baton.fallback_used";

    /// <summary>The task a request was routed by (<c>model: "auto"</c> with a task).</summary>
    public const string Task = "baton.task";

    /// <summary>The tier the task mapped to (seed 002's <c>model_tier</c>).</summary>
    public const string Tier = "baton.tier";

    /// <summary>What the answer cost in US dollars (zero from the cache); absent when accounting is off.</summary>
    public const string CostUsd = "baton.cost_usd";

    /// <summary>True when the answer came from the response cache, with no upstream call (seed 004's <c>cached</c>).</summary>
    public const string Cached = "baton.cached";

    /// <summary>True when a cut stream was resumed by another attempt.</summary>
    public const string StreamResumed = "baton.stream_resumed";

    /// <summary>The provider that answered (seed 003's <c>last_used_provider</c>).</summary>
    public const string Provider = "baton.provider";

    /// <summary>The deployment that answered: <c>provider/upstream-model</c>.</summary>
    public const string Deployment = "baton.deployment";

    /// <summary>The upstream model id that answered (seed 004's <c>model_used</c>).</summary>
    public const string UpstreamModel = "baton.upstream_model";

    /// <summary>How many upstream attempts the answer took (an <see cref="int"/>), retries and failovers to other deployments included.</summary>
    public const string Attempts = "baton.attempts";

    /// <summary>
    /// Requests the answering deployment has left (tokens when it only limits tokens), seed 004's
    /// <c>rate_limit_remaining</c>; present only when the deployment has a request or token limit.
    /// </summary>
    public const string RateLimitRemaining = "baton.rate_limit_remaining";

    /// <summary>When that budget is whole again, a <see cref="DateTimeOffset"/> (seed 004's <c>rate_limit_reset</c>).</summary>
    public const string RateLimitReset = "baton.rate_limit_reset";

    /// <summary>Wall-clock time of the call in milliseconds (seed 004's <c>processing_time</c>).</summary>
    public const string ProcessingTimeMs = "baton.processing_time_ms";
}
