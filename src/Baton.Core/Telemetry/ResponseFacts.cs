using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Telemetry;

/// <summary>
/// What a span says about an answer besides usage: its id, the model the upstream named, and the finish reasons.
/// Read from the OpenAI <c>chat.completion</c> body or chunk with a forward-only reader, and only for a recorded span.
/// </summary>
internal sealed class ResponseFacts
{
    public string? Id { get; private set; }

    public string? Model { get; private set; }

    public List<string> FinishReasons { get; } = [];

    private StreamChunkReader? _reader;

    /// <summary>Takes a stream chunk's facts from its one reading; a chunk that is not JSON leaves the facts as they were.</summary>
    public void Observe(in StreamChunk chunk)
    {
        StreamChunkReader reading;
        try
        {
            reading = StreamChunkReader.Of(chunk, ref _reader);
        }
        catch (JsonException)
        {
            return;
        }
        // The id and model are decoded once per stream, not per chunk.
        Id ??= reading.Id;
        Model ??= reading.Model;
        for (var i = 0; i < reading.FinishReasonCount; i++)
        {
            FinishReasons.Add(reading.FinishReason(i));
        }
    }

    /// <summary>Takes a non-streamed answer's facts from the pass that already read its body.</summary>
    public void Observe(CompletionFacts answer)
    {
        Id ??= answer.Id;
        Model ??= answer.Model;
        FinishReasons.AddRange(answer.FinishReasons);
    }

    /// <summary>Reads a body or chunk; a payload that is not JSON leaves the facts as they were.</summary>
    public void Observe(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            var depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("id"u8):
                        reader.Read();
                        Id ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("model"u8):
                        reader.Read();
                        Model ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case JsonTokenType.PropertyName when depth == 3 && reader.ValueTextEquals("finish_reason"u8):
                        // choices (2) -> choice object (3)
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } reason)
                        {
                            FinishReasons.Add(reason);
                        }
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }
    }
}
