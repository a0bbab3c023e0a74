using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;

namespace Baton.Monitoring;

/// <summary>
/// The engine's one hook into the <see cref="RequestRecorder"/>: it times a request from the moment the engine
/// takes it, and records it when it ends: a complete answer when it is returned, a stream when the caller
/// disposes of it (read to the end, cut by an error, or left by its client), an error when it is thrown.
/// Without a recorder it adds nothing to the call.
/// </summary>
internal static class RequestObserver
{
    public static Task<ChatCompletionResult> CompleteAsync(RequestRecorder? recorder, ChatRequest request,
        Func<ChatRequest, CancellationToken, Task<ChatCompletionResult>> complete, CancellationToken cancellationToken) =>
        recorder is null ? complete(request, cancellationToken) : ObserveCompleteAsync(recorder, request, complete, cancellationToken);

    public static Task<ChatStreamResult> StreamAsync(RequestRecorder? recorder, ChatRequest request,
        Func<ChatRequest, CancellationToken, Task<ChatStreamResult>> stream, CancellationToken cancellationToken) =>
        recorder is null ? stream(request, cancellationToken) : ObserveStreamAsync(recorder, request, stream, cancellationToken);

    private static async Task<ChatCompletionResult> ObserveCompleteAsync(RequestRecorder recorder, ChatRequest request,
        Func<ChatRequest, CancellationToken, Task<ChatCompletionResult>> complete, CancellationToken cancellationToken)
    {
        var time = recorder.Time;
        var started = time.GetTimestamp();
        ChatCompletionResult result;
        try
        {
            result = await complete(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (Failed(recorder, request, stream: false, started, error, cancellationToken))
        {
            throw;
        }
        recorder.Record(Answered(request, result.Route, stream: false, 200, time.GetUtcNow(), time.GetElapsedTime(started), null,
            result.Usage, result.CostUsd));
        return result;
    }

    private static async Task<ChatStreamResult> ObserveStreamAsync(RequestRecorder recorder, ChatRequest request,
        Func<ChatRequest, CancellationToken, Task<ChatStreamResult>> stream, CancellationToken cancellationToken)
    {
        var started = recorder.Time.GetTimestamp();
        ChatStreamResult result;
        try
        {
            result = await stream(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (Failed(recorder, request, stream: true, started, error, cancellationToken))
        {
            throw;
        }
        // The engine returns a stream once its first chunk is ready: that is the time to first token.
        var firstChunk = recorder.Time.GetElapsedTime(started);
        return result.WithStream(inner => new ObservedStream(inner, recorder, request, started, firstChunk, result.GetCostAsync));
    }

    /// <summary>Records a request that failed; always false, so the exception goes on unchanged.</summary>
    private static bool Failed(RequestRecorder recorder, ChatRequest request, bool stream, long started, Exception error, CancellationToken cancellationToken)
    {
        var (status, code) = error switch
        {
            BatonException baton => (baton.StatusCode, baton.Code),
            OperationCanceledException when cancellationToken.IsCancellationRequested => (CompletedRequest.ClientClosedRequest, "client_closed"),
            _ => (500, "internal_error"),
        };
        var attempts = (error as BatonException)?.Attempts ?? [];
        recorder.Record(new CompletedRequest
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
            LatencyMs = recorder.Time.GetElapsedTime(started).TotalMilliseconds,
        });
        return false;
    }

    internal static CompletedRequest Answered(ChatRequest request, RouteInfo route, bool stream, int status, DateTimeOffset time, TimeSpan latency,
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
