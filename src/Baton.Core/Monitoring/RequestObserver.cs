using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;
using Baton.Telemetry;

namespace Baton.Monitoring;

/// <summary>
/// The engine's one hook into the <see cref="RequestRecorder"/> and its request telemetry (span and metrics,
/// <see cref="RequestTelemetry"/>): it times a request from the moment the engine takes it, and records it when it
/// ends: a complete answer when it is returned, a stream when the caller disposes of it (read to the end, cut by an
/// error, or left by its client), an error when it is thrown. A complete answer is observed by the engine's own method,
/// through <see cref="CompleteSucceeded"/> and <see cref="RequestFailed"/>; a stream inside the engine's own step, through
/// <see cref="StartStream"/>, <see cref="StreamBegan"/> and <see cref="RequestFailed"/>. With neither a recorder nor
/// telemetry it adds nothing to the call.
/// </summary>
internal static class RequestObserver
{
    /// <summary>
    /// Ends the observation of a complete answer the engine returned (its own method runs the request's steps and
    /// their observation together, so that a request pays for one state machine): the span and metrics, then the record.
    /// </summary>
    /// <param name="recorder">The dashboard's recorder; null without one.</param>
    /// <param name="span">The request's telemetry; null without any.</param>
    /// <param name="request">The request.</param>
    /// <param name="started">The recorder's timestamp when the engine took the request.</param>
    /// <param name="result">The answer.</param>
    public static void CompleteSucceeded(RequestRecorder? recorder, RequestTelemetry? span, ChatRequest request, long started, ChatCompletionResult result)
    {
        span?.Stop();
        if (recorder is not null)
        {
            var clock = recorder.Time;
            recorder.Record(Answered(request, result.Route, stream: false, 200, clock.GetUtcNow(), clock.GetElapsedTime(started), null,
                result.Usage, result.CostUsd));
        }
    }

    /// <summary>
    /// Ends the observation of a request that failed before answering (a complete answer that failed, or a stream that
    /// never began): the span ends with the error, and the request is recorded as failed.
    /// </summary>
    public static void RequestFailed(RequestRecorder? recorder, RequestTelemetry? span, ChatRequest request, bool stream, long started, Exception error,
        CancellationToken cancellationToken)
    {
        span?.Failed(error);
        span?.Stop();
        Failed(recorder, request, stream, started, error, cancellationToken);
    }

    /// <summary>
    /// A streamed request's observation begins: its span (null without telemetry) and its start on the recorder's
    /// clock. The engine observes a stream in its own asynchronous step (one state machine per stream, not two):
    /// <see cref="StreamBegan"/> when its first chunk is ready, <see cref="RequestFailed"/> when it never began.
    /// </summary>
    public static RequestTelemetry? StartStream(RequestRecorder? recorder, BatonTelemetry? telemetry, TimeProvider time, ChatRequest request, out long started)
    {
        started = recorder?.Time.GetTimestamp() ?? 0;
        return RequestTelemetry.Start(telemetry, request, time, stream: true);
    }

    /// <summary>
    /// The engine returns a stream once its first chunk is ready: that is the time to first token. The stream ends the
    /// span itself (<see cref="TracedStream"/>) and is recorded when its caller disposes of it (<see cref="ObservedStream"/>).
    /// </summary>
    public static ChatStreamResult StreamBegan(RequestRecorder? recorder, RequestTelemetry? span, ChatRequest request, long started, ChatStreamResult result)
    {
        span?.FirstChunk();
        if (recorder is null)
        {
            return result;
        }
        var firstChunk = recorder.Time.GetElapsedTime(started);
        return result.WithStream(new ObservedStream(result.Stream, recorder, request, started, firstChunk, result));
    }

    /// <summary>Records a request that failed, with its status and code, and the last deployment tried.</summary>
    private static void Failed(RequestRecorder? recorder, ChatRequest request, bool stream, long started, Exception error, CancellationToken cancellationToken)
    {
        if (recorder is null)
        {
            return;
        }
        var (status, code) = error switch
        {
            BatonException baton => (baton.StatusCode, baton.Code),
            OperationCanceledException when cancellationToken.IsCancellationRequested => (CompletedRequest.ClientClosedRequest, "client_closed"),
            _ => (500, "internal_error"),
        };
        var attempts = (error as BatonException)?.Attempts ?? [];
        recorder.Record(new RecordedRequest
        {
            Time = recorder.Time.GetUtcNow(),
            KeyId = request.ApiKeyId,
            KeyName = request.Options.Key?.Name,
            RequestedModel = request.Model,
            Model = request.Model,
            Deployment = attempts.Count > 0 ? attempts[^1].Deployment : null,
            Status = status,
            ErrorCode = code,
            Stream = stream,
            Attempts = attempts.Count,
            Cache = "bypass",
            LatencyMs = recorder.Time.GetElapsedTime(started).TotalMilliseconds,
        });
    }

    internal static RecordedRequest Answered(ChatRequest request, RouteInfo route, bool stream, int status, DateTimeOffset time, TimeSpan latency,
        TimeSpan? firstChunk, TokenUsage? usage, decimal? cost, string? errorCode = null) => new()
        {
            Time = time,
            KeyId = request.ApiKeyId,
            KeyName = request.Options.Key?.Name,
            RequestedModel = route.RequestedModel,
            Model = route.Model,
            Deployment = route.Deployment,
            Status = status,
            ErrorCode = errorCode,
            Stream = stream,
            Cache = route.Cache switch
            {
                Caching.CacheStatus.Hit => "hit",
                Caching.CacheStatus.Miss => "miss",
                _ => "bypass",
            },
            Fallback = route.FallbackUsed,
            Attempts = route.Attempts,
            LatencyMs = latency.TotalMilliseconds,
            TimeToFirstTokenMs = firstChunk?.TotalMilliseconds,
            InputTokens = usage?.PromptTokens ?? 0,
            OutputTokens = usage?.CompletionTokens ?? 0,
            CostUsd = cost,
        };
}
