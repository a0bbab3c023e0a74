using Baton.Engine;
using Baton.Errors;
using Baton.Providers;
using Baton.Requests;

namespace Baton.Monitoring;

/// <summary>
/// A streamed answer whose end is recorded: when its caller disposes of it, with how it ended (read to the end,
/// cut by an error, or left by its reader: 499), its usage and cost. A cost Baton is still counting (an upstream
/// that reported no usage) is waited for in the background, so the caller never waits for the record.
/// </summary>
internal sealed class ObservedStream(
    ChatStream inner,
    RequestRecorder recorder,
    ChatRequest request,
    long started,
    TimeSpan firstChunk,
    ChatStreamResult costOf) : ObservingStream(inner)
{
    private int _status = CompletedRequest.ClientClosedRequest;
    private string? _errorCode = "client_closed";
    private int _disposed;

    private protected override void OnCompleted() => (_status, _errorCode) = (200, null);

    private protected override void OnFailed(Exception error)
    {
        // Only Baton's own errors say how the request ended; anything else is recorded as the reader leaving.
        if (error is BatonException baton)
        {
            (_status, _errorCode) = (baton.StatusCode, baton.Code);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await Inner.DisposeAsync().ConfigureAwait(false);
        var time = recorder.Time;
        var ended = time.GetUtcNow();
        var latency = time.GetElapsedTime(started);
        // The result the stream came in: the same billing as the one that now reads through this wrapper.
        var total = costOf.GetCostAsync(CancellationToken.None);
        if (total.IsCompletedSuccessfully)
        {
            Record(ended, latency, total.Result);
        }
        else
        {
            _ = RecordWhenCountedAsync(ended, latency, total);
        }
    }

    private async Task RecordWhenCountedAsync(DateTimeOffset ended, TimeSpan latency, ValueTask<decimal?> total)
    {
        decimal? known;
        try
        {
            known = await total.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The ledger reports a count that failed; the dashboard still shows the request, without a cost.
            known = null;
        }
        Record(ended, latency, known);
    }

    private void Record(DateTimeOffset ended, TimeSpan latency, decimal? total) =>
        recorder.Record(RequestObserver.Answered(request, Inner.Route, stream: true, _status, ended, latency, firstChunk, Inner.Usage, total, _errorCode));
}
