using System.Buffers;
using System.Text.Json;
using Baton.Errors;

namespace Baton.Providers.Anthropic;

/// <summary>
/// The body of a request that came in Anthropic's own format, for an Anthropic deployment: the client's bytes with
/// only the top-level <c>model</c> (the deployment's upstream model) and <c>stream</c> (this attempt's mode) replaced.
/// Everything else (prompt-cache markers, <c>top_k</c>, thinking blocks and their signatures) goes as it came.
/// </summary>
internal static class AnthropicPassThrough
{
    /// <summary>The client's protocol headers forwarded with the body; auth headers are never among them.</summary>
    public static readonly string[] ForwardedHeaders = ["anthropic-beta"];

    /// <param name="body">The client's body.</param>
    /// <param name="upstreamModel">The deployment's model id.</param>
    /// <param name="stream">This attempt's mode; null leaves <c>stream</c> as the client sent it (count_tokens has none).</param>
    public static byte[] Rewrite(ReadOnlySpan<byte> body, string upstreamModel, bool? stream)
    {
        Range? model = null;
        Range? streamValue = null;
        var openingBrace = 0;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid();
            }
            openingBrace = (int)reader.TokenStartIndex;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                var isStream = reader.ValueTextEquals("stream"u8);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var end = (int)reader.BytesConsumed;
                if (isModel)
                {
                    model = start..end;
                }
                else if (isStream)
                {
                    streamValue = start..end;
                }
            }
        }
        catch (JsonException)
        {
            throw Invalid();
        }
        if (model is null)
        {
            throw Invalid();
        }

        var replacements = new List<(int Start, int End, byte[] With)> { (model.Value.Start.Value, model.Value.End.Value, JsonSerializer.SerializeToUtf8Bytes(upstreamModel)) };
        if (stream is bool wanted)
        {
            if (streamValue is { } at)
            {
                replacements.Add((at.Start.Value, at.End.Value, wanted ? [.. "true"u8] : [.. "false"u8]));
            }
            else if (wanted)
            {
                // The body has a model, so a member follows the opening brace: the new one goes first, with its comma.
                replacements.Add((openingBrace + 1, openingBrace + 1, [.. "\"stream\":true,"u8]));
            }
        }
        replacements.Sort((a, b) => a.Start.CompareTo(b.Start));

        var output = new ArrayBufferWriter<byte>(body.Length + upstreamModel.Length + 16);
        var position = 0;
        foreach (var (start, end, with) in replacements)
        {
            output.Write(body[position..start]);
            output.Write(with);
            position = end;
        }
        output.Write(body[position..]);
        return output.WrittenSpan.ToArray();
    }

    private static BatonException Invalid() =>
        BatonException.InvalidRequest("The request body must be a JSON object with a 'model'.", "model");
}
