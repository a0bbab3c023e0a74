using System.Text.Json;
using Baton.Embeddings;

namespace Baton.Providers.Gemini;

/// <summary>
/// Gemini's embeddings: one input is <c>POST {baseUrl}/models/{model}:embedContent</c>
/// (<c>{"model":"models/M","content":{"parts":[{"text":...}]},"outputDimensionality":N}</c>, answered with
/// <c>{"embedding":{"values":[...]}}</c>); several are <c>:batchEmbedContents</c> (<c>{"requests":[...]}</c> of the same
/// requests, answered with <c>{"embeddings":[{"values":[...]}]}</c>), at most <see cref="MaxBatch"/> a call. Gemini
/// takes text only: a token array is decoded first. It reports no token usage.
/// </summary>
internal static class GeminiEmbeddings
{
    /// <summary>The most requests Gemini takes in one <c>batchEmbedContents</c> call.</summary>
    public const int MaxBatch = 100;

    /// <summary>The body for the inputs <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/>.</summary>
    public static byte[] WriteRequest(EmbeddingProviderRequest request, int start, int count, bool batch)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (batch)
            {
                writer.WriteStartObject();
                writer.WriteStartArray("requests"u8);
            }
            for (var i = start; i < start + count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("model"u8, "models/" + request.UpstreamModel);
                writer.WriteStartObject("content"u8);
                writer.WriteStartArray("parts"u8);
                writer.WriteStartObject();
                writer.WriteString("text"u8, request.Embedding.TextOf(i));
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
                if (request.Embedding.Dimensions is { } dimensions)
                {
                    writer.WriteNumber("outputDimensionality"u8, dimensions);
                }
                writer.WriteEndObject();
            }
            if (batch)
            {
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The vectors of an <c>embedContent</c> (<paramref name="batch"/> false) or <c>batchEmbedContents</c> answer.</summary>
    public static float[][] ReadAnswer(string provider, ReadOnlyMemory<byte> body, int count, bool batch) =>
        UpstreamJson.Read(provider, "an embeddings response", body, root =>
        {
            if (!batch)
            {
                return [EmbeddingJson.ReadFloats(root.GetProperty("embedding").GetProperty("values"))];
            }
            var embeddings = root.GetProperty("embeddings");
            if (embeddings.GetArrayLength() != count)
            {
                throw new JsonException($"{provider} answered {embeddings.GetArrayLength()} embeddings for {count} inputs.");
            }
            return embeddings.EnumerateArray().Select(e => EmbeddingJson.ReadFloats(e.GetProperty("values"))).ToArray();
        });
}
