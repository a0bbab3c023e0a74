using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Baton.Requests;

namespace Baton.Caching;

/// <summary>
/// The cache key of a request: a SHA-256 of its canonical form. The canonical form is the body with the
/// resolved model in place of the requested name, object keys sorted, numbers normalised (0.70 = 0.7) and
/// whitespace dropped, without the fields that do not change the answer (streaming, metadata, user). So
/// two requests that differ only in key order or spacing share an entry, and any other difference misses.
/// </summary>
public static class CacheKey
{
    private static readonly byte[][] NotPartOfTheAnswer =
        [.. new[] { "model", "stream", "stream_options", "metadata", "user", "store", "service_tier" }.Select(Encoding.UTF8.GetBytes)];

    /// <summary>
    /// The canonical form's buffer and writer, reused by each thread: every request that uses the cache computes a
    /// key, and a fresh buffer and writer per request are most of what the key would otherwise allocate.
    /// </summary>
    [ThreadStatic]
    private static CanonicalWriter? t_writer;

    /// <summary>The key of a JSON body (a copy of it is parsed).</summary>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    public static string Compute(ReadOnlySpan<byte> body, string resolvedModel)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        return Compute(document, resolvedModel);
    }

    /// <summary>
    /// The key of a request: of the client's body in its own wire format when it came in another (see
    /// <see cref="ChatRequest.Native"/>), else of its Chat Completions body, parsed where it lies rather than copied
    /// (the parser has already checked it is one well-formed JSON object).
    /// </summary>
    public static string Compute(ChatRequest request, string resolvedModel)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Native is { } native)
        {
            return Compute(native.Body.Span, resolvedModel);
        }
        using var document = JsonDocument.Parse(request.Body);
        return Compute(document, resolvedModel);
    }

    private static string Compute(JsonDocument document, string resolvedModel)
    {
        // Taken for the call and given back at its end: a call that throws (a body the writer refuses) drops it
        // rather than leave a half-written object for the next request.
        var canonical = t_writer ?? new CanonicalWriter();
        t_writer = null;
        var writer = canonical.Start();
        writer.WriteStartObject();
        writer.WriteString("model"u8, resolvedModel.ToLowerInvariant());
        WriteProperties(writer, document.RootElement, skipNotPartOfTheAnswer: true);
        writer.WriteEndObject();
        writer.Flush();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(canonical.Written, hash);
        canonical.Keep();
        t_writer = canonical;
        return Convert.ToHexStringLower(hash);
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                WriteProperties(writer, value, skipNotPartOfTheAnswer: false);
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when value.TryGetDecimal(out var number):
                // Dividing by 1.000... drops trailing zeros, so 0.70 and 0.7 write the same.
                writer.WriteNumberValue(number / 1.0000000000000000000000000000m);
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    /// <summary>
    /// An object's properties in ordinal order of their names, compared and written as the UTF-8 they arrived in,
    /// so that no name becomes a string (this runs for every message of every request). A name written with
    /// JSON escapes is unescaped first, so it sorts and hashes as the same name written plainly.
    /// </summary>
    private static void WriteProperties(Utf8JsonWriter writer, JsonElement value, bool skipNotPartOfTheAnswer)
    {
        var count = 0;
        foreach (var _ in value.EnumerateObject())
        {
            count++;
        }
        var properties = ArrayPool<JsonProperty>.Shared.Rent(count);
        try
        {
            var kept = 0;
            foreach (var property in value.EnumerateObject())
            {
                if (!skipNotPartOfTheAnswer || !IsNotPartOfTheAnswer(property))
                {
                    properties[kept++] = property;
                }
            }
            // Insertion sort: objects here have a handful of properties, and Array.Sort would allocate a delegate per call.
            for (var i = 1; i < kept; i++)
            {
                var current = properties[i];
                var j = i - 1;
                for (; j >= 0 && CompareNames(properties[j], current) > 0; j--)
                {
                    properties[j + 1] = properties[j];
                }
                properties[j + 1] = current;
            }
            for (var i = 0; i < kept; i++)
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(properties[i]);
                if (name.IndexOf((byte)'\\') < 0)
                {
                    writer.WritePropertyName(name);
                }
                else
                {
                    writer.WritePropertyName(properties[i].Name);
                }
                WriteCanonical(writer, properties[i].Value);
            }
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
        }
    }

    private static bool IsNotPartOfTheAnswer(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        var name = raw.IndexOf((byte)'\\') < 0 ? raw : Encoding.UTF8.GetBytes(property.Name);
        foreach (var field in NotPartOfTheAnswer)
        {
            if (name.SequenceEqual(field))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Ordinal order of property names: UTF-8 byte order is code-point order, as ordinal string order is for these names.</summary>
    private static int CompareNames(JsonProperty x, JsonProperty y)
    {
        var a = JsonMarshal.GetRawUtf8PropertyName(x);
        var b = JsonMarshal.GetRawUtf8PropertyName(y);
        return a.IndexOf((byte)'\\') < 0 && b.IndexOf((byte)'\\') < 0
            ? a.SequenceCompareTo(b)
            : string.CompareOrdinal(x.Name, y.Name);
    }

    /// <summary>A reusable buffer and JSON writer for the canonical form; a large one is not kept.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
        Justification = "A Utf8JsonWriter over a buffer writer holds nothing unmanaged; it lives as long as its thread.")]
    private sealed class CanonicalWriter
    {
        /// <summary>Past this, the buffer is let go after the call: one huge request must not pin its size per thread.</summary>
        private const int KeptCapacity = 64 * 1024;

        private ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;

        public CanonicalWriter() => _writer = new Utf8JsonWriter(_buffer);

        public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

        public Utf8JsonWriter Start()
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            return _writer;
        }

        public void Keep()
        {
            if (_buffer.Capacity > KeptCapacity)
            {
                _buffer = new ArrayBufferWriter<byte>(1024);
            }
            _buffer.ResetWrittenCount();
        }
    }
}
