using System.Runtime.CompilerServices;
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
    Func<CancellationToken, ValueTask<decimal?>> cost) : ChatStream
{
    private int _status = CompletedRequest.ClientClosedRequest;
    private string? _errorCode = "client_closed";
    private int _disposed;

    public override RouteInfo Route => inner.Route;

    public override TokenUsage? Usage => inner.Usage;

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = inner.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await chunks.MoveNextAsync().ConfigureAwait(false);
                }
                catch (BatonException error)
                {
                    (_status, _errorCode) = (error.StatusCode, error.Code);
                    throw;
                }
                if (!more)
                {
                    (_status, _errorCode) = (200, null);
                    yield break;
                }
                yield return chunks.Current;
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await inner.DisposeAsync().ConfigureAwait(false);
        var time = recorder.Time;
        var ended = time.GetUtcNow();
        var latency = time.GetElapsedTime(started);
        var total = cost(CancellationToken.None);
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
        recorder.Record(RequestObserver.Answered(request, inner.Route, stream: true, _status, ended, latency, firstChunk, inner.Usage, total, _errorCode));
}
