using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Telemetry;

/// <summary>
/// What a span says about an answer besides usage: its id, the model the upstream named, and the finish reasons.
/// Taken from the one reading of the answer's body or of each stream chunk, and only for a recorded span.
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
}
