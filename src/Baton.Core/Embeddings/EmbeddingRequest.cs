using System.Text.Json;
using Baton.Accounting;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Embeddings;

/// <summary>
/// An OpenAI embeddings request (<c>POST /v1/embeddings</c>): the model, its inputs (a string, strings, a token
/// array or token arrays), the encoding of the answer's vectors, the dimensions asked for, and the end user.
/// Read and checked by <see cref="Parse"/>, or built in code by <see cref="Create"/>.
/// </summary>
public sealed class EmbeddingRequest
{
    /// <summary>The most inputs one request may carry: OpenAI's own limit.</summary>
    public const int MaxInputs = 2048;

    private static readonly JsonWriterOptions CompactWriter = new() { Indented = false, SkipValidation = false };

    private ChatRequest? _envelope;

    private EmbeddingRequest(string model, IReadOnlyList<EmbeddingInput> inputs, bool singleInput, string encodingFormat, int? dimensions,
        string? user, IReadOnlyList<KeyValuePair<string, JsonElement>> extra)
    {
        Model = model;
        Inputs = inputs;
        SingleInput = singleInput;
        EncodingFormat = encodingFormat;
        Dimensions = dimensions;
        Options = new BatonRequestOptions { User = user };
        Extra = extra;
    }

    /// <summary>The model name the client asked for.</summary>
    public string Model { get; }

    /// <summary>The inputs, in order: the answer has one vector for each, at the same index.</summary>
    public IReadOnlyList<EmbeddingInput> Inputs { get; }

    /// <summary><see cref="EmbeddingEncodings.Float"/> or <see cref="EmbeddingEncodings.Base64"/>.</summary>
    public string EncodingFormat { get; }

    /// <summary>The number of dimensions asked for; null for the model's own.</summary>
    public int? Dimensions { get; }

    /// <summary>The <c>user</c> field, the caller's identity, session, tags and cache directives (see <see cref="BatonRequestOptions"/>).</summary>
    public BatonRequestOptions Options { get; set; }

    /// <summary>True when <c>input</c> was one string or one token array rather than an array of them.</summary>
    internal bool SingleInput { get; }

    /// <summary>Top-level fields Baton does not read, passed on to OpenAI-compatible upstreams as they came.</summary>
    internal IReadOnlyList<KeyValuePair<string, JsonElement>> Extra { get; }

    /// <summary>Builds a request in code (the library's embedding generator).</summary>
    /// <exception cref="BatonException">400 when the inputs or dimensions are not valid, as for a request read from JSON.</exception>
    public static EmbeddingRequest Create(string model, IReadOnlyList<EmbeddingInput> inputs, string encodingFormat = EmbeddingEncodings.Float, int? dimensions = null)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw BatonException.InvalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
        }
        if (inputs.Count == 0 || inputs.Count > MaxInputs)
        {
            throw BatonException.InvalidRequest($"'input' must hold 1 to {MaxInputs} inputs; it holds {inputs.Count}.", "input", "invalid_value");
        }
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null || (inputs[i].Text?.Length ?? inputs[i].Tokens!.Count) == 0)
            {
                throw BatonException.InvalidRequest($"'input[{i}]' is empty; every input must have at least one character or token.", "input", "invalid_value");
            }
        }
        CheckEncoding(encodingFormat);
        CheckDimensions(dimensions);
        return new EmbeddingRequest(model, inputs, singleInput: false, encodingFormat, dimensions, user: null, []);
    }

    /// <summary>Reads an OpenAI embeddings body; every problem is a 400 in OpenAI's shape naming the parameter.</summary>
    public static EmbeddingRequest Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw BatonException.InvalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
        }
        JsonDocument document;
        try
        {
            JsonStringCheck.Validate(body.Span);
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest($"We could not parse the JSON body of your request: {ex.Message}", null, "invalid_json");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw BatonException.InvalidRequest("The request body must be a JSON object.", null, "invalid_json");
            }
            string? model = null;
            string? user = null;
            string encoding = EmbeddingEncodings.Float;
            int? dimensions = null;
            (IReadOnlyList<EmbeddingInput> Inputs, bool Single)? input = null;
            var extra = new List<KeyValuePair<string, JsonElement>>();
            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "model":
                        model = value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } name
                            ? name
                            : throw BatonException.InvalidRequest("'model' must be a non-empty string.", "model", "invalid_type");
                        break;
                    case "input":
                        input = ReadInput(value);
                        break;
                    case "encoding_format":
                        encoding = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                        CheckEncoding(encoding);
                        break;
                    case "dimensions":
                        if (value.ValueKind == JsonValueKind.Null)
                        {
                            break;
                        }
                        dimensions = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count)
                            ? count
                            : throw BatonException.InvalidRequest("'dimensions' must be a positive integer.", "dimensions", "invalid_type");
                        CheckDimensions(dimensions);
                        break;
                    case "user":
                        if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                        {
                            throw BatonException.InvalidRequest("'user' must be a string.", "user", "invalid_type");
                        }
                        user = value.GetString();
                        break;
                    default:
                        extra.Add(new(property.Name, value.Clone()));
                        break;
                }
            }
            if (model is null)
            {
                throw BatonException.InvalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
            }
            if (input is not { } read)
            {
                throw BatonException.InvalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
            }
            return new EmbeddingRequest(model, read.Inputs, read.Single, encoding, dimensions, user, extra);
        }
    }

    private static (IReadOnlyList<EmbeddingInput>, bool) ReadInput(JsonElement value)
    {
        const string Expected = "'input' must be a non-empty string, an array of non-empty strings, an array of token ids, or an array of arrays of token ids.";
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString()!;
                return text.Length > 0 ? ([EmbeddingInput.FromText(text)], true) : throw BatonException.InvalidRequest(Expected, "input", "invalid_value");
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                if (count == 0)
                {
                    throw BatonException.InvalidRequest(Expected, "input", "invalid_value");
                }
                var first = value[0].ValueKind;
                if (first == JsonValueKind.Number)
                {
                    // One token array.
                    return ([EmbeddingInput.FromTokens(ReadTokens(value, "input"))], true);
                }
                if (count > MaxInputs)
                {
                    throw BatonException.InvalidRequest($"'input' may hold at most {MaxInputs} inputs; it holds {count}.", "input", "too_many_inputs");
                }
                var inputs = new List<EmbeddingInput>(count);
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (first == JsonValueKind.String && item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } part)
                    {
                        inputs.Add(EmbeddingInput.FromText(part));
                    }
                    else if (first == JsonValueKind.Array && item.ValueKind == JsonValueKind.Array && item.GetArrayLength() > 0)
                    {
                        inputs.Add(EmbeddingInput.FromTokens(ReadTokens(item, $"input[{index}]")));
                    }
                    else
                    {
                        throw BatonException.InvalidRequest($"'input[{index}]' is not valid: {Expected} Inputs of one request are all of one kind.", "input", "invalid_value");
                    }
                    index++;
                }
                return (inputs, false);
            default:
                throw BatonException.InvalidRequest(Expected, "input", "invalid_type");
        }
    }

    private static int[] ReadTokens(JsonElement array, string path)
    {
        var tokens = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var token in array.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || id < 0)
            {
                throw BatonException.InvalidRequest($"'{path}[{i}]' is not a token id (a non-negative integer).", "input", "invalid_value");
            }
            tokens[i++] = id;
        }
        return tokens;
    }

    private static void CheckEncoding(string encoding)
    {
        if (encoding is not (EmbeddingEncodings.Float or EmbeddingEncodings.Base64))
        {
            throw BatonException.InvalidRequest($"'encoding_format' must be '{EmbeddingEncodings.Float}' or '{EmbeddingEncodings.Base64}'.", "encoding_format", "invalid_value");
        }
    }

    private static void CheckDimensions(int? dimensions)
    {
        if (dimensions is < 1)
        {
            throw BatonException.InvalidRequest("'dimensions' must be a positive integer.", "dimensions", "invalid_value");
        }
    }

    /// <summary>
    /// The input's text; a token array is decoded with <c>cl100k_base</c>, the encoding of OpenAI's embedding models
    /// (the only ones whose API takes token ids), for an upstream that takes only text.
    /// </summary>
    /// <exception cref="BatonException">400 when the token ids are not in that encoding.</exception>
    public string TextOf(int index)
    {
        var input = Inputs[index];
        if (input.Text is { } text)
        {
            return text;
        }
        var tokenizer = PromptTokenCounter.For(EmbeddingTokens.Model);
        string? decoded = null;
        // Decoded into a buffer, which says whether every id was decoded: an id outside the encoding is refused, not dropped.
        var destination = new char[Math.Max(64, input.Tokens!.Count * 8)];
        while (true)
        {
            var status = tokenizer.Decode(input.Tokens!, destination, out var consumed, out var written);
            if (status == System.Buffers.OperationStatus.DestinationTooSmall && destination.Length < int.MaxValue / 4)
            {
                destination = new char[destination.Length * 2];
                continue;
            }
            if (status == System.Buffers.OperationStatus.Done && consumed == input.Tokens!.Count)
            {
                decoded = new string(destination, 0, written);
            }
            break;
        }
        return decoded ?? throw BatonException.InvalidRequest(
            $"'input[{index}]' holds token ids that are not in the cl100k_base encoding, so it cannot be turned into text for this model.", "input", "invalid_value");
    }

    /// <summary>The inputs' tokens as Baton counts them: a token array is its length, a text is counted with the model's encoding.</summary>
    public int CountTokens(CancellationToken cancellationToken = default)
    {
        var total = 0;
        foreach (var input in Inputs)
        {
            total += input.Text is { } text ? PromptTokenCounter.Count(text, EmbeddingTokens.Model, cancellationToken) : input.Tokens!.Count;
        }
        return total;
    }

    /// <summary>
    /// The request as the engine's envelope, so that routing, key limits, rate limits, budgets, the cache and the
    /// ledger treat it as they treat a chat request. Its body is the request's canonical form (model, inputs,
    /// encoding, dimensions): what the cache keys on. It asks for no completion tokens.
    /// </summary>
    internal ChatRequest Envelope => _envelope ??= CreateEnvelope();

    private ChatRequest CreateEnvelope()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, Model);
            writer.WritePropertyName("input"u8);
            WriteInputs(writer);
            writer.WriteString("encoding_format"u8, EncodingFormat);
            if (Dimensions is { } dimensions)
            {
                writer.WriteNumber("dimensions"u8, dimensions);
            }
            writer.WriteEndObject();
        }
        var characters = 0L;
        foreach (var input in Inputs)
        {
            characters += input.Characters;
        }
        return new ChatRequest(buffer.WrittenMemory, Model)
        {
            Options = Options,
            MaxTokens = 0,
            PromptCharacters = (int)Math.Min(int.MaxValue, characters),
            CountPromptTokens = CountTokens,
        };
    }

    /// <summary>Writes <c>input</c> as it came: one string or token array, or an array of them.</summary>
    internal void WriteInputs(Utf8JsonWriter writer)
    {
        if (!SingleInput)
        {
            writer.WriteStartArray();
        }
        foreach (var input in Inputs)
        {
            if (input.Text is { } text)
            {
                writer.WriteStringValue(text);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var token in input.Tokens!)
                {
                    writer.WriteNumberValue(token);
                }
                writer.WriteEndArray();
            }
        }
        if (!SingleInput)
        {
            writer.WriteEndArray();
        }
    }
}

/// <summary>The encoding Baton counts and decodes embedding tokens with.</summary>
internal static class EmbeddingTokens
{
    /// <summary>A model id that <see cref="PromptTokenCounter.For"/> maps to <c>cl100k_base</c>, the encoding of OpenAI's embedding models.</summary>
    public const string Model = "text-embedding-3-small";
}
