using System.Text.Json;
using Baton.Embeddings;

namespace Baton.Simulation.Wire;

/// <summary>A simulated embeddings request, read from any wire format: the model, the texts and the dimensions asked for.</summary>
public sealed record SimulatedEmbeddingRequest(string Model, IReadOnlyList<string> Texts, int? Dimensions, bool Base64 = false)
{
    /// <summary>The <see cref="SimulatedEmbedding"/> vectors of the texts, at the dimensions asked for or the model's.</summary>
    public float[][] Vectors()
    {
        var dimensions = Dimensions ?? SimulatedEmbedding.DefaultDimensions(Model);
        return [.. Texts.Select(t => SimulatedEmbedding.Vector(t, dimensions))];
    }

    /// <summary>The texts' tokens, counted with <c>cl100k_base</c>.</summary>
    public int Tokens() => Texts.Sum(t => Accounting.PromptTokenCounter.Count(t, "text-embedding-3-small"));
}

/// <summary>
/// The simulator's embeddings in each provider's wire format: OpenAI's (also Azure's and GitHub Models'), Gemini's
/// <c>embedContent</c> and <c>batchEmbedContents</c>, and Ollama's <c>/api/embed</c>. Requests are read as those
/// APIs document them; a request the reader cannot use is a <see cref="JsonException"/> (answered with a 400).
/// </summary>
public static class EmbeddingsWireFormat
{
    /// <summary>An OpenAI embeddings body; <paramref name="pathModel"/> is the model named by the path (an Azure OpenAI deployment).</summary>
    public static SimulatedEmbeddingRequest ReadOpenAi(byte[] body, string? pathModel = null)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var named = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String;
        if (!named && pathModel is null)
        {
            throw new JsonException("'model' is required.");
        }
        EmbeddingRequest request;
        List<string> texts;
        try
        {
            request = EmbeddingRequest.Parse(named ? body : WithModel(root, pathModel!));
            texts = [.. Enumerable.Range(0, request.Inputs.Count).Select(request.TextOf)];
        }
        catch (Errors.BatonException ex)
        {
            throw new JsonException(ex.Message);
        }
        return new SimulatedEmbeddingRequest(pathModel ?? request.Model, texts, request.Dimensions, request.EncodingFormat == EmbeddingEncodings.Base64);
    }

    private static byte[] WithModel(JsonElement root, string model)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            foreach (var property in root.EnumerateObject().Where(p => p.Name != "model"))
            {
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>OpenAI's answer: vectors as numbers, or base64 of little-endian floats.</summary>
    public static byte[] RenderOpenAi(SimulatedEmbeddingRequest request)
    {
        var vectors = request.Vectors();
        var tokens = request.Tokens();
        return Render(writer =>
        {
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < vectors.Length; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                if (request.Base64)
                {
                    writer.WriteBase64String("embedding", EmbeddingEncodings.ToLittleEndianBytes(vectors[i]));
                }
                else
                {
                    WriteFloats(writer, "embedding", vectors[i]);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("model", request.Model);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", tokens);
            writer.WriteNumber("total_tokens", tokens);
            writer.WriteEndObject();
        });
    }

    /// <summary>A Gemini <c>embedContent</c> body (<paramref name="batch"/> false) or <c>batchEmbedContents</c> body.</summary>
    public static SimulatedEmbeddingRequest ReadGemini(byte[] body, string model, bool batch)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var items = batch ? root.GetProperty("requests").EnumerateArray().ToList() : [root];
        if (items.Count == 0)
        {
            throw new JsonException("'requests' is empty.");
        }
        int? dimensions = null;
        var texts = new List<string>();
        foreach (var item in items)
        {
            if (batch && item.TryGetProperty("model", out var named) && named.GetString() != "models/" + model)
            {
                throw new JsonException($"Model '{named.GetString()}' of a batch request is not 'models/{model}'.");
            }
            texts.Add(string.Concat(item.GetProperty("content").GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("text").GetString())));
            if (item.TryGetProperty("outputDimensionality", out var wanted))
            {
                dimensions = wanted.GetInt32();
            }
        }
        return new SimulatedEmbeddingRequest(model, texts, dimensions);
    }

    /// <summary>Gemini's answer: <c>{"embedding":{"values"}}</c>, or <c>{"embeddings":[{"values"}]}</c> for a batch. No usage, as Gemini.</summary>
    public static byte[] RenderGemini(SimulatedEmbeddingRequest request, bool batch)
    {
        var vectors = request.Vectors();
        return Render(writer =>
        {
            if (!batch)
            {
                writer.WriteStartObject("embedding");
                WriteFloats(writer, "values", vectors[0]);
                writer.WriteEndObject();
                return;
            }
            writer.WriteStartArray("embeddings");
            foreach (var vector in vectors)
            {
                writer.WriteStartObject();
                WriteFloats(writer, "values", vector);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
    }

    /// <summary>An Ollama <c>/api/embed</c> body: <c>input</c> a string or strings.</summary>
    public static SimulatedEmbeddingRequest ReadOllama(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var model = root.TryGetProperty("model", out var named) ? named.GetString() ?? "" : "";
        var input = root.GetProperty("input");
        List<string> texts = input.ValueKind == JsonValueKind.Array ? [.. input.EnumerateArray().Select(i => i.GetString()!)] : [input.GetString()!];
        int? dimensions = root.TryGetProperty("dimensions", out var wanted) ? wanted.GetInt32() : null;
        return new SimulatedEmbeddingRequest(model, texts, dimensions);
    }

    /// <summary>Ollama's answer: <c>{"model","embeddings":[[...]],"total_duration","load_duration","prompt_eval_count"}</c>.</summary>
    public static byte[] RenderOllama(SimulatedEmbeddingRequest request)
    {
        var vectors = request.Vectors();
        var tokens = request.Tokens();
        return Render(writer =>
        {
            writer.WriteString("model", request.Model);
            writer.WriteStartArray("embeddings");
            foreach (var vector in vectors)
            {
                writer.WriteStartArray();
                foreach (var value in vector)
                {
                    writer.WriteNumberValue(value);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteNumber("total_duration", 0);
            writer.WriteNumber("load_duration", 0);
            writer.WriteNumber("prompt_eval_count", tokens);
        });
    }

    private static void WriteFloats(Utf8JsonWriter writer, string name, float[] vector)
    {
        writer.WriteStartArray(name);
        foreach (var value in vector)
        {
            writer.WriteNumberValue(value);
        }
        writer.WriteEndArray();
    }

    private static byte[] Render(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
