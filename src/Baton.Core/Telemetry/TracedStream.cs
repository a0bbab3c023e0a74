using Baton.Engine;
using Baton.Providers;

namespace Baton.Telemetry;

/// <summary>
/// Ends a streamed request's span and metrics when the stream does: with the usage and route once it was read to
/// the end, with the error when it broke, as abandoned when the reader stopped early. Reads the chunks for the span
/// (response id, model, finish reasons, and the text when content is captured) only while the span is recorded.
/// </summary>
/// <remarks>
/// The cost is the billing's (<see cref="StreamBilling.Cost"/>) when the answer came from upstream, otherwise the one
/// known in advance: taken from them when the stream ends, without a delegate made per stream to read it.
/// </remarks>
internal sealed class TracedStream(ChatStream inner, RequestTelemetry telemetry, string providerType, StreamBilling? billing, decimal? fixedCost = null)
    : ObservingStream(inner)
{
    private readonly StreamTextTap? _text = telemetry.CapturesContent ? new StreamTextTap() : null;
    private bool _ended;

    private protected override void OnChunk(in StreamChunk chunk)
    {
        if (telemetry.Facts is { } facts)
        {
            facts.Observe(chunk);
            _text?.Observe(chunk);
        }
    }

    private protected override void OnCompleted()
    {
        _ended = true;
        telemetry.Succeeded(Inner.Route, providerType, Inner.Usage, billing is null ? fixedCost : billing.Cost, _text?.Text);
    }

    private protected override void OnFailed(Exception error)
    {
        _ended = true;
        telemetry.Failed(error, Inner.Route);
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await Inner.DisposeAsync().ConfigureAwait(false);
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
