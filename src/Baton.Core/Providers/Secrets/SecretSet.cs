using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.ObjectPool;

namespace Baton.Providers.Secrets;

/// <summary>
/// An immutable set of keys with what searching for them needs, built once when a key is added: the windows of
/// <see cref="SecretRedactor.MinimumFragmentLength"/> characters of every key (one vectorised multi-string search
/// finds any fragment in a text), each key's UTF-8 bytes with its first bytes as the search anchor, and the
/// escaped forms JSON writers give keys with characters they escape.
/// </summary>
internal sealed class SecretSet
{
    private const int Fragment = SecretRedactor.MinimumFragmentLength;
    private static readonly byte[] MaskBytes = Encoding.UTF8.GetBytes(SecretRedactor.Mask);

    public static readonly SecretSet Empty = new([]);

    private readonly SearchValues<string>? _windows;
    private readonly byte[][] _utf8;
    private readonly byte[][] _escaped;
    private readonly ObjectPool<StreamSecretScrubber> _scrubbers;

    public SecretSet(string[] keys)
    {
        Keys = keys;
        var windows = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            for (var i = 0; i + Fragment <= key.Length; i++)
            {
                windows.Add(key.Substring(i, Fragment));
            }
        }
        _windows = windows.Count == 0 ? null : SearchValues.Create([.. windows], StringComparison.Ordinal);
        _utf8 = [.. keys.Select(Encoding.UTF8.GetBytes)];
        // A key with '+', '<', '&' or a non-ASCII character reaches a client as an escape sequence when a JSON
        // writer re-encodes it (Baton's own translators do); each distinct form is searched for too.
        _escaped = [.. keys
            .SelectMany(key => new[] { JsonEncodedText.Encode(key).EncodedUtf8Bytes.ToArray(),
                JsonEncodedText.Encode(key, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray() })
            .Where(form => !_utf8.Any(plain => plain.AsSpan().SequenceEqual(form)))
            .DistinctBy(Convert.ToBase64String)];
        _scrubbers = new DefaultObjectPoolProvider { MaximumRetained = 1024 }.Create(new ScrubberPolicy(this));
    }

    public string[] Keys { get; }

    /// <summary>A stream's scrubber of these keys, from the scrubbers of streams that ended.</summary>
    public StreamSecretScrubber RentScrubber() => _scrubbers.Get();

    /// <summary>Takes back a scrubber whose stream ended: it is reset and serves a later stream.</summary>
    public void Return(StreamSecretScrubber scrubber) => _scrubbers.Return(scrubber);

    /// <summary>The longest key, in characters.</summary>
    public int LongestKey => Keys.Length == 0 ? 0 : Keys.Max(k => k.Length);

    /// <summary>Masks every run of at least <see cref="Fragment"/> characters that some key also contains.</summary>
    public string RedactText(string text)
    {
        if (_windows is null || text.Length < Fragment)
        {
            return text;
        }
        StringBuilder? redacted = null;
        var copied = 0;
        var from = 0;
        while (from <= text.Length - Fragment)
        {
            var found = text.AsSpan(from).IndexOfAny(_windows);
            if (found < 0)
            {
                break;
            }
            var start = from + found;
            // The leftmost window found starts the run (an earlier start would have been found first), so the
            // run only grows to the right: as far as the text keeps following some key.
            var end = start + LongestRunAt(text.AsSpan(start));
            redacted ??= new StringBuilder(text.Length);
            redacted.Append(text, copied, start - copied).Append(SecretRedactor.Mask);
            copied = from = end;
        }
        return redacted is null ? text : redacted.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>How many characters, from the start of <paramref name="text"/>, follow some key from some position of it.</summary>
    private int LongestRunAt(ReadOnlySpan<char> text)
    {
        var longest = Fragment;
        foreach (var key in Keys)
        {
            for (var offset = 0; offset + Fragment <= key.Length; offset++)
            {
                var run = text.CommonPrefixLength(key.AsSpan(offset));
                longest = Math.Max(longest, run);
            }
        }
        return longest;
    }

    /// <summary>
    /// Masks every key in UTF-8 JSON (plain or escaped), and with <paramref name="cutEchoes"/> a key's first
    /// <see cref="Fragment"/> or more bytes where a JSON string or the body ends. Null when nothing was found.
    /// </summary>
    public byte[]? ScrubJson(ReadOnlySpan<byte> json, bool cutEchoes)
    {
        List<(int Start, int End)>? ranges = null;
        foreach (var key in _utf8)
        {
            var anchor = key.AsSpan(0, Fragment);
            var from = 0;
            while (from < json.Length)
            {
                var found = json[from..].IndexOf(anchor);
                if (found < 0)
                {
                    break;
                }
                var start = from + found;
                var run = json[start..].CommonPrefixLength(key);
                var end = start + run;
                if (run == key.Length || (cutEchoes && (end == json.Length || json[end] == (byte)'"')))
                {
                    (ranges ??= []).Add((start, end));
                    from = end;
                }
                else
                {
                    from = start + 1;
                }
            }
        }
        foreach (var form in _escaped)
        {
            var from = 0;
            while (from < json.Length && json[from..].IndexOf(form) is var found and >= 0)
            {
                (ranges ??= []).Add((from + found, from + found + form.Length));
                from += found + form.Length;
            }
        }
        return ranges is null ? null : Replace(json, ranges);
    }

    private static byte[] Replace(ReadOnlySpan<byte> json, List<(int Start, int End)> ranges)
    {
        ranges.Sort();
        var output = new ArrayBufferWriter<byte>(json.Length);
        var copied = 0;
        foreach (var (start, end) in ranges)
        {
            if (end <= copied)
            {
                continue;
            }
            if (start >= copied)
            {
                output.Write(json[copied..start]);
                output.Write(MaskBytes);
            }
            // An overlapping range extends the mask already written.
            copied = end;
        }
        output.Write(json[copied..]);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Makes scrubbers of this set; one given back is kept when it resets (see <see cref="StreamSecretScrubber"/>).</summary>
    private sealed class ScrubberPolicy(SecretSet secrets) : PooledObjectPolicy<StreamSecretScrubber>
    {
        public override StreamSecretScrubber Create() => new(secrets);

        public override bool Return(StreamSecretScrubber obj) => ((IResettable)obj).TryReset();
    }
}
