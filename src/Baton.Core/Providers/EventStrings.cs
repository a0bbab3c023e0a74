using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Baton.Providers;

/// <summary>
/// The strings of an upstream stream's events read in one pass over their bytes (Anthropic's and Gemini's events): each
/// found where it is in the event, or, when it has escapes, unescaped into one rented buffer that every event of the
/// stream reuses. One per stream; an event's strings are valid until the next event begins.
/// </summary>
internal sealed class EventStrings : IDisposable
{
    private byte[] _unescaped = [];
    private int _used;

    /// <summary>Starts an event of <paramref name="length"/> bytes: the buffer is grown to hold all its strings unescaped.</summary>
    public void Begin(int length)
    {
        _used = 0;
        if (_unescaped.Length >= length)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(length);
        if (_unescaped.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_unescaped);
        }
        _unescaped = grown;
    }

    /// <summary>
    /// The value the reader is on, when a string (another kind is skipped, and reads as absent): in the event when it has
    /// no escapes, else unescaped after the event's earlier strings.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A string that is not UTF-8: a document's reading refuses it when it reads it; the JSON reader alone does not.
    /// </exception>
    public EventString Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }
        if (!reader.ValueIsEscaped)
        {
            if (!Utf8.IsValid(reader.ValueSpan))
            {
                throw new InvalidOperationException("A string of the event is not UTF-8.");
            }
            // A string token starts at its opening quote.
            return new EventString((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, Unescaped: false, Present: true);
        }
        // CopyString refuses text that is not UTF-8 itself (InvalidOperationException).
        var written = reader.CopyString(_unescaped.AsSpan(_used));
        var at = new EventString(_used, written, Unescaped: true, Present: true);
        _used += written;
        return at;
    }

    /// <summary>The UTF-8 of <paramref name="text"/>, a string of the event <paramref name="data"/> (absent: empty).</summary>
    public ReadOnlySpan<byte> Of(EventString text, ReadOnlySpan<byte> data) =>
        (text.Unescaped ? _unescaped : data).Slice(text.Start, text.Length);

    /// <summary>Gives back the buffer.</summary>
    public void Dispose()
    {
        var unescaped = Interlocked.Exchange(ref _unescaped, []);
        if (unescaped.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(unescaped);
        }
    }
}

/// <summary>Where a string of an event is (see <see cref="EventStrings"/>); <c>default</c> when absent or not a string.</summary>
internal readonly record struct EventString(int Start, int Length, bool Unescaped, bool Present);
