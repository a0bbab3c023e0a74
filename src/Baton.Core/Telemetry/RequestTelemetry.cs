using System.Diagnostics;
using System.Globalization;
using Baton.Caching;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;

namespace Baton.Telemetry;

/// <summary>
/// The span (<c>chat {model}</c>) and the metrics of one request through the engine, from its arrival to its answer
/// (for a stream, to its end). The span exists only while something listens to the <c>Baton</c> source; the metrics
/// are recorded whenever the meter has listeners. Ended once, by <see cref="Stop"/>.
/// </summary>
internal sealed class RequestTelemetry
{
    private readonly BatonTelemetry _telemetry;
    private readonly ChatRequest _request;
    private readonly TimeProvider _time;
    private readonly long _started;
    private RouteInfo? _route;
    private string? _providerType;
    private string? _errorType;
    private string _outcome = "error";
    private int _stopped;

    private RequestTelemetry(BatonTelemetry telemetry, ChatRequest request, TimeProvider time, bool stream, string operation)
    {
        _telemetry = telemetry;
        _request = request;
        _time = time;
        _started = time.GetTimestamp();
        telemetry.ActiveRequests?.Add(1);
        // Parented on the ambient span: the gateway's request span (continuing the caller's traceparent), the
        // application's own, or a pipeline step's.
        Activity = telemetry.StartActivity(operation, request.Model, ActivityKind.Internal);
        if (Activity is { IsAllDataRequested: true } span)
        {
            Facts = new ResponseFacts();
            // A new span holds none of these yet: added, not set (SetTag searches the span's tags for the key first).
            span.AddTag(TelemetryTags.OperationName, operation);
            span.AddTag(TelemetryTags.RequestModel, request.Model);
            span.AddTag(TelemetryTags.Stream, SpanValues.Of(stream));
            span.AddTagIfPresent(TelemetryTags.KeyId, request.ApiKeyId);
            span.AddTagIfPresent(TelemetryTags.ConversationId, request.SessionId);
            span.AddTagIfPresent(TelemetryTags.Task, request.Task);
            if (request.MaxTokens is { } maxTokens)
            {
                span.AddTag(TelemetryTags.RequestMaxTokens, SpanValues.Of(maxTokens));
            }
            // An embeddings request has no messages: its inputs are not put on the span.
            if (telemetry.CaptureContent && operation == TelemetryTags.Chat)
            {
                span.AddTag(TelemetryTags.InputMessages, GenAiContent.InputMessages(request.Body));
            }
        }
    }

    /// <summary>The request's span; null when nobody listens or tracing is off.</summary>
    public Activity? Activity { get; }

    /// <summary>The answer's id, model and finish reasons, read for a recorded span only.</summary>
    public ResponseFacts? Facts { get; }

    /// <summary>True when the answer's text is wanted on the span.</summary>
    public bool CapturesContent => Facts is not null && _telemetry.CaptureContent;

    /// <summary>
    /// Starts the telemetry of one request; null when the engine has none, or when tracing and metrics are both off
    /// (nothing would be recorded, so the request carries no telemetry object and its stream no wrapper).
    /// </summary>
    public static RequestTelemetry? Start(BatonTelemetry? telemetry, ChatRequest request, TimeProvider time, bool stream,
        string operation = TelemetryTags.Chat) =>
        telemetry is null || (!telemetry.Tracing && telemetry.Meter is null) ? null : new RequestTelemetry(telemetry, request, time, stream, operation);

    /// <summary>The context attempt spans are children of.</summary>
    public ActivityContext Context => Activity?.Context ?? default;

    public BatonTelemetry Telemetry => _telemetry;

    public void CacheLooked(CacheStatus status)
    {
        if (status == CacheStatus.Bypass)
        {
            return;
        }
        var result = status == CacheStatus.Hit ? "hit" : "miss";
        _telemetry.CacheLookups?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.CacheResult, result),
            new KeyValuePair<string, object?>(TelemetryTags.Model, _request.Model));
    }

    public void RateLimitWaited(string deployment, TimeSpan waited)
    {
        _telemetry.RateLimitWaits?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Deployment, deployment));
        Activity?.AddEvent(new ActivityEvent(TelemetryTags.RateLimitWaitEvent, tags: new ActivityTagsCollection
        {
            [TelemetryTags.Deployment] = deployment,
            [TelemetryTags.WaitMs] = Math.Round(waited.TotalMilliseconds, 3),
        }));
    }

    public void RateLimitRefused(string deployment, BatonException refusal)
    {
        _telemetry.RateLimitRefusals?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Deployment, deployment));
        Activity?.AddEvent(new ActivityEvent(TelemetryTags.RateLimitRefusedEvent, tags: new ActivityTagsCollection
        {
            [TelemetryTags.Deployment] = deployment,
            [TelemetryTags.Reason] = refusal.Message,
        }));
    }

    public void Retried(string deployment, string errorType) =>
        _telemetry.Retries?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Deployment, deployment),
            new KeyValuePair<string, object?>(TelemetryTags.ErrorType, errorType));

    public void StreamResumed(string deployment, BatonException cause) =>
        Activity?.AddEvent(new ActivityEvent(TelemetryTags.StreamResumeEvent, tags: new ActivityTagsCollection
        {
            [TelemetryTags.Deployment] = deployment,
            [TelemetryTags.ErrorType] = ErrorType(cause),
            [TelemetryTags.Reason] = cause.Message,
        }));

    /// <summary>A stream's first chunk is ready for the caller.</summary>
    public void FirstChunk()
    {
        var elapsed = _time.GetElapsedTime(_started).TotalSeconds;
        Activity?.SetTag(TelemetryTags.TimeToFirstChunk, elapsed);
        if (_telemetry.TimeToFirstToken is { Enabled: true } histogram)
        {
            histogram.Record(elapsed, new KeyValuePair<string, object?>(TelemetryTags.OperationName, TelemetryTags.Chat),
                new KeyValuePair<string, object?>(TelemetryTags.RequestModel, _request.Model));
        }
    }

    /// <summary>The request was answered (for a stream: the stream ended).</summary>
    /// <param name="route">Who answered, and how.</param>
    /// <param name="providerType">The answering provider's type (<c>openai</c>, <c>anthropic</c>, ...).</param>
    /// <param name="usage">The usage billed.</param>
    /// <param name="cost">The cost in US dollars; null without accounting.</param>
    /// <param name="outputText">The answer's text, when content is captured.</param>
    public void Succeeded(RouteInfo route, string providerType, TokenUsage? usage, decimal? cost, string? outputText = null)
    {
        _route = route;
        _providerType = providerType;
        _outcome = TelemetryTags.Ok;
        if (route.FallbackUsed)
        {
            _telemetry.Fallbacks?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.RequestModel, route.RequestedModel),
                new KeyValuePair<string, object?>(TelemetryTags.Model, route.Model));
        }
        if (cost is { } dollars)
        {
            _telemetry.Cost?.Add((double)dollars, new KeyValuePair<string, object?>(TelemetryTags.Model, route.Model),
                new KeyValuePair<string, object?>(TelemetryTags.KeyId, _request.ApiKeyId ?? TelemetryTags.NoKey));
        }
        if (usage is { } used && _telemetry.TokenUsage is { Enabled: true } tokens)
        {
            var tags = MetricTags();
            tags.Add(TelemetryTags.TokenType, "input");
            tokens.Record(used.PromptTokens, tags);
            tags[tags.Count - 1] = new KeyValuePair<string, object?>(TelemetryTags.TokenType, "output");
            tokens.Record(used.CompletionTokens, tags);
        }
        if (Activity is not { IsAllDataRequested: true } span)
        {
            return;
        }
        // An answer is described once, and only after the tags set at the start (none of which it repeats): the tags
        // are added without searching the span's list for them.
        span.AddTagIfPresent(TelemetryTags.ProviderName, providerType);
        span.AddTagIfPresent(TelemetryTags.ResponseModel, Facts?.Model ?? route.UpstreamModel);
        span.AddTagIfPresent(TelemetryTags.ResponseId, Facts?.Id);
        if (Facts is { FinishReasons.Count: > 0 } facts)
        {
            span.AddTag(TelemetryTags.FinishReasons, facts.FinishReasons.ToArray());
        }
        if (usage is { } reported)
        {
            span.AddTag(TelemetryTags.InputTokens, SpanValues.Of(reported.PromptTokens));
            span.AddTag(TelemetryTags.OutputTokens, SpanValues.Of(reported.CompletionTokens));
            if (reported.CachedPromptTokens > 0)
            {
                span.AddTag(TelemetryTags.CacheReadInputTokens, SpanValues.Of(reported.CachedPromptTokens));
            }
            if (reported.CacheWritePromptTokens > 0)
            {
                span.AddTag(TelemetryTags.CacheCreationInputTokens, SpanValues.Of(reported.CacheWritePromptTokens));
            }
            if (reported.ReasoningTokens > 0)
            {
                span.AddTag(TelemetryTags.ReasoningOutputTokens, SpanValues.Of(reported.ReasoningTokens));
            }
        }
        span.AddTagIfPresent(TelemetryTags.Model, route.Model);
        span.AddTagIfPresent(TelemetryTags.Provider, route.Provider);
        span.AddTagIfPresent(TelemetryTags.Deployment, route.Deployment);
        span.AddTag(TelemetryTags.Attempts, SpanValues.Of(route.Attempts));
        span.AddTag(TelemetryTags.Fallback, SpanValues.Of(route.FallbackUsed));
        span.AddTag(TelemetryTags.Cache, CacheName(route.Cache));
        span.AddTagIfPresent(TelemetryTags.Tier, route.Tier);
        if (route.StreamResumed)
        {
            span.AddTag(TelemetryTags.StreamResumed, SpanValues.Of(true));
        }
        if (cost is { } spent)
        {
            span.AddTag(TelemetryTags.CostUsd, (double)spent);
        }
        if (outputText is not null && _telemetry.CaptureContent)
        {
            span.AddTag(TelemetryTags.OutputMessages, GenAiContent.OutputMessages(outputText, Facts?.FinishReasons ?? []));
        }
    }

    /// <summary>The request failed (or, for a stream, ended in an error).</summary>
    public void Failed(Exception error, RouteInfo? route = null)
    {
        _route ??= route;
        _errorType = error switch
        {
            BatonException baton => ErrorType(baton),
            OperationCanceledException => "cancelled",
            _ => error.GetType().FullName ?? "error",
        };
        _outcome = _errorType;
        if (Activity is { } span)
        {
            span.SetStatus(ActivityStatusCode.Error, error is BatonException ? error.Message : _errorType);
            span.SetTag(TelemetryTags.ErrorType, _errorType);
            if (error is BatonException { StatusCode: var status })
            {
                span.SetTag(TelemetryTags.HttpStatus, status);
            }
            if (route is not null)
            {
                span.SetTag(TelemetryTags.Deployment, route.Deployment);
                span.SetTag(TelemetryTags.Attempts, route.Attempts);
            }
        }
    }

    /// <summary>A stream whose reader stopped before its end (the client went away).</summary>
    public void Abandoned() => _outcome = "client_closed";

    /// <summary>Ends the span and records the duration and the outcome; only the first call counts.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        _telemetry.ActiveRequests?.Add(-1);
        if (_telemetry.OperationDuration is { Enabled: true } duration)
        {
            var tags = MetricTags();
            if (_errorType is not null)
            {
                tags.Add(TelemetryTags.ErrorType, _errorType);
            }
            duration.Record(_time.GetElapsedTime(_started).TotalSeconds, tags);
        }
        _telemetry.Requests?.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Model, _request.Model),
            new KeyValuePair<string, object?>(TelemetryTags.Outcome, _outcome));
        Activity?.SetTag(TelemetryTags.Outcome, _outcome);
        Activity?.Stop();
    }

    private TagList MetricTags()
    {
        var tags = new TagList
        {
            { TelemetryTags.OperationName, TelemetryTags.Chat },
            { TelemetryTags.RequestModel, _request.Model },
        };
        if (_providerType is not null)
        {
            tags.Add(TelemetryTags.ProviderName, _providerType);
        }
        if (_route is not null)
        {
            tags.Add(TelemetryTags.ResponseModel, _route.UpstreamModel);
        }
        return tags;
    }

    /// <summary>The error's code, else its type, else its status (what <c>error.type</c> and <c>baton.outcome</c> carry).</summary>
    internal static string ErrorType(BatonException error) =>
        error.Code ?? (string.IsNullOrEmpty(error.Type) ? error.StatusCode.ToString(CultureInfo.InvariantCulture) : error.Type);

    private static string CacheName(CacheStatus status) => status switch
    {
        CacheStatus.Hit => "hit",
        CacheStatus.Miss => "miss",
        _ => "bypass",
    };
}
