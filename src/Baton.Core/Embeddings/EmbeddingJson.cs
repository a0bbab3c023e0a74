using System.Buffers.Binary;
using System.Text.Json;
using Baton.Providers;

namespace Baton.Embeddings;

/// <summary>
/// OpenAI's embeddings answer: written by Baton for its callers, and read from OpenAI-compatible upstreams (and by
/// the library from Baton's own answers). A vector is a JSON array of numbers, or base64 of its little-endian
/// 32-bit floats (<c>encoding_format: base64</c>), as OpenAI sends it.
/// </summary>
internal static class EmbeddingJson
{
    /// <summary>The answer to a request: one <c>embedding</c> object per vector, at its input's index.</summary>
    public static byte[] Write(IReadOnlyList<float[]> vectors, string encoding, string model, TokenUsage usage)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "list"u8);
            writer.WriteStartArray("data"u8);
            for (var i = 0; i < vectors.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object"u8, "embedding"u8);
                writer.WriteNumber("index"u8, i);
                if (encoding == EmbeddingEncodings.Base64)
                {
                    writer.WriteBase64String("embedding"u8, ToBytes(vectors[i]));
                }
                else
                {
                    writer.WriteStartArray("embedding"u8);
                    foreach (var value in vectors[i])
                    {
                        writer.WriteNumberValue(value);
                    }
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("model"u8, model);
            writer.WriteStartObject("usage"u8);
            writer.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
            writer.WriteNumber("total_tokens"u8, usage.PromptTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A vector as little-endian 32-bit floats, whatever this machine's byte order.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }
        return bytes;
    }

    /// <summary>Little-endian 32-bit floats back into a vector.</summary>
    public static float[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new JsonException("A base64 embedding is not a whole number of 32-bit floats.");
        }
        var vector = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        }
        return vector;
    }

    /// <summary>
    /// The vectors of an OpenAI embeddings answer, ordered by their <c>index</c>, and the prompt tokens of its
    /// <c>usage</c> (null when it has none). An answer without <c>data</c>, or with gaps in its indexes, is a
    /// <see cref="JsonException"/>: the provider turns it into a malformed-answer failure.
    /// </summary>
    public static IReadOnlyList<float[]> ReadVectors(ReadOnlySpan<byte> body, string provider, out int? promptTokens)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        promptTokens = root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object &&
            usage.TryGetProperty("prompt_tokens", out var prompt) && prompt.TryGetInt32(out var tokens) ? tokens : null;
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException($"{provider}'s embeddings answer has no 'data' array.");
        }
        var vectors = new float[data.GetArrayLength()][];
        var position = 0;
        foreach (var item in data.EnumerateArray())
        {
            var index = item.TryGetProperty("index", out var given) && given.TryGetInt32(out var at) ? at : position;
            if (index < 0 || index >= vectors.Length || vectors[index] is not null || !item.TryGetProperty("embedding", out var embedding))
            {
                throw new JsonException($"{provider}'s embeddings answer has an item without an embedding or with a wrong index.");
            }
            vectors[index] = embedding.ValueKind == JsonValueKind.String ? FromBytes(embedding.GetBytesFromBase64()) : ReadFloats(embedding);
            position++;
        }
        return vectors;
    }

    /// <summary>A JSON array of numbers as a vector.</summary>
    public static float[] ReadFloats(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("An embedding is neither an array of numbers nor a base64 string.");
        }
        var vector = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var value in array.EnumerateArray())
        {
            vector[i++] = value.GetSingle();
        }
        return vector;
    }
}
