using System.Collections.Concurrent;
using System.Text;

namespace Baton.Providers.OpenAi;

/// <summary>
/// Model names as shared strings: the ones upstreams put in their answers, and the ones clients ask for. An upstream
/// names the same model in every answer (a stream's name is read for its cached answer and its span), and clients
/// ask for the same few models request after request: looked up by its characters, a name seen before costs no new
/// string. A table holds at most a fixed number of names of at most <see cref="MaxLength"/> characters, so a
/// client or an upstream that invents names cannot grow it without bound; a name it does not hold is decoded as usual.
/// </summary>
internal sealed class ModelNames
{
    internal const int MaxLength = 128;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _byChars;
    private readonly int _maxNames;
    private int _count;

    internal ModelNames(int maxNames)
    {
        _maxNames = maxNames;
        _byChars = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The table every stream reads its model names through.</summary>
    public static ModelNames Shared { get; } = new(maxNames: 1024);

    /// <summary>
    /// The table requests' <c>model</c> fields are read through: apart from <see cref="Shared"/>, so that clients
    /// naming models that do not exist cannot take the upstreams' places.
    /// </summary>
    public static ModelNames Requested { get; } = new(maxNames: 1024);

    /// <summary>The name whose UTF-8 bytes (unescaped, without quotes) are <paramref name="utf8"/>.</summary>
    public string FromUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        // UTF-8 never takes fewer bytes than UTF-16 chars (an invalid byte becomes one replacement char).
        Span<char> buffer = stackalloc char[MaxLength];
        var chars = buffer[..Encoding.UTF8.GetChars(utf8, buffer)];
        if (_byChars.TryGetValue(chars, out var known))
        {
            return known;
        }
        var name = chars.ToString();
        if (Volatile.Read(ref _count) < _maxNames && _names.TryAdd(name, name))
        {
            Interlocked.Increment(ref _count);
        }
        return name;
    }
}
