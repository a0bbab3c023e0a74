using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Baton.Core.Tests.TestSupport;

/// <summary>What a <see cref="MeterListener"/> heard, one entry per measurement, its tags copied out of the listener's span.</summary>
public static class MeasurementLog
{
    public static void Record(this ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> log,
        Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }
        log.Enqueue((instrument.Name, value, copy));
    }

    /// <summary>A started listener that logs every measurement of the instruments <paramref name="heard"/> accepts.</summary>
    public static MeterListener Listen(this ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> log,
        Func<Instrument, bool> heard)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (heard(instrument))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => log.Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => log.Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => log.Record(instrument, value, tags));
        listener.Start();
        return listener;
    }
}
