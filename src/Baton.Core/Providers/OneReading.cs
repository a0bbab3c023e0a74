namespace Baton.Providers;

/// <summary>
/// The start of a sequence that is its own enumerator and can be read once (a stream's chunks): a second reading is
/// refused, and the reading's cancellation is the enumerator's when it has one, else the one the sequence was made with.
/// </summary>
internal static class OneReading
{
    /// <summary>Starts the reading (<paramref name="started"/>), or throws when it has started already.</summary>
    public static void Begin(ref bool started, ref CancellationToken cancellation, CancellationToken enumerator)
    {
        if (started)
        {
            throw new InvalidOperationException("A stream's chunks are read once.");
        }
        started = true;
        if (enumerator.CanBeCanceled)
        {
            cancellation = enumerator;
        }
    }
}
