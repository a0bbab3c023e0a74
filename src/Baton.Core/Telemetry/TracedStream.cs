using System.Runtime.CompilerServices;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Telemetry;

/// <summary>
/// Ends a streamed request's span and metrics when the stream does: with the usage and route once it was read to
/// the end, with the error when it broke, as abandoned when the reader stopped early. Reads the chunks for the span
/// (response id, model, finish reasons, and the text when content is captured) only while the span is recorded.
/// </summary>
internal sealed class TracedStream(ChatStream inner, RequestTelemetry telemetry, string providerType, Func<decimal?> cost) : ChatStream
{
    private readonly StreamTextTap? _text = telemetry.CapturesContent ? new StreamTextTap() : null;
    private bool _ended;

    public override RouteInfo Route => inner.Route;

    public override TokenUsage? Usage => inner.Usage;

    public override async IAsyncEnumerable<StreamChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = inner.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await chunks.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception error)
                {
                    _ended = true;
                    telemetry.Failed(error, inner.Route);
                    throw;
                }
                var chunk = chunks.Current;
                if (telemetry.Facts is { } facts)
                {
                    facts.Observe(chunk);
                    _text?.Observe(chunk);
                }
                yield return chunk;
            }
        }
        _ended = true;
        telemetry.Succeeded(inner.Route, providerType, inner.Usage, cost(), _text?.Text);
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_ended)
            {
                telemetry.Abandoned();
            }
            telemetry.Stop();
            _text?.Dispose();
        }
    }
}
