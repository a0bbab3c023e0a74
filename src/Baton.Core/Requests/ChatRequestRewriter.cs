using System.Globalization;
using System.Text;
using Baton.Configuration;

namespace Baton.Requests;

/// <summary>
/// Produces the body sent to an OpenAI-compatible upstream by splicing the client's bytes: the model name
/// is replaced, usage is requested for streams, and deployment defaults are added for parameters the client
/// left out. Everything else is copied as it came.
/// </summary>
public static class ChatRequestRewriter
{
    private static readonly byte[] IncludeUsage = """{"include_usage":true}"""u8.ToArray();
    private static readonly byte[] StreamOptionsMember = ""","stream_options":{"include_usage":true}"""u8.ToArray();

    public static PooledBuffer Rewrite(ChatRequest request, string upstreamModel, RequestDefaults? defaults)
    {
        var body = request.Body.Span;
        var output = new PooledBuffer(body.Length + upstreamModel.Length + 96);

        var prefix = BuildDefaults(request, defaults);
        var openBrace = body.IndexOf((byte)'{');
        output.Append(body[..(openBrace + 1)]);
        if (prefix.Length > 0)
        {
            output.Append(prefix);
        }

        // Splice points in ascending order: model, then stream_options (if present), then the closing brace.
        var edits = new List<(Range Range, byte[] Replacement)>(3)
        {
            (request.ModelToken, JsonString(upstreamModel)),
        };
        if (request.Stream && request.StreamOptionsToken is Range streamOptions)
        {
            edits.Add((streamOptions, IncludeUsage));
        }
        edits.Sort((a, b) => a.Range.Start.Value.CompareTo(b.Range.Start.Value));

        var position = openBrace + 1;
        foreach (var (range, replacement) in edits)
        {
            output.Append(body[position..range.Start.Value]);
            output.Append(replacement);
            position = range.End.Value;
        }

        output.Append(body[position..request.ClosingBraceIndex]);
        if (request.Stream && request.StreamOptionsToken is null)
        {
            output.Append(StreamOptionsMember);
        }
        output.Append(body[request.ClosingBraceIndex..]);
        return output;
    }

    /// <summary>
    /// The same request with messages added at the end of the conversation, e.g. to ask another deployment
    /// to continue an answer that was cut. The result is parsed again, so it is checked like any request.
    /// </summary>
    public static ChatRequest AppendMessages(ChatRequest request, IEnumerable<(string Role, string Content)> messages)
    {
        var body = request.Body.Span;
        var added = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            added.Append(',').Append("{\"role\":").Append(Encoding.UTF8.GetString(JsonString(role)))
                .Append(",\"content\":").Append(Encoding.UTF8.GetString(JsonString(content))).Append('}');
        }
        byte[] combined = [.. body[..request.MessagesEndIndex], .. Encoding.UTF8.GetBytes(added.ToString()), .. body[request.MessagesEndIndex..]];
        var appended = ChatRequestParser.Parse(combined);
        appended.Task = request.Task;
        appended.SessionId = request.SessionId;
        appended.Fallbacks = request.Fallbacks;
        return appended;
    }

    private static byte[] BuildDefaults(ChatRequest request, RequestDefaults? defaults)
    {
        if (defaults is null)
        {
            return [];
        }
        var builder = new StringBuilder();
        if (!request.HasTemperature && defaults.Temperature is double temperature)
        {
            builder.Append("\"temperature\":").Append(temperature.ToString("R", CultureInfo.InvariantCulture)).Append(',');
        }
        if (!request.HasTopP && defaults.TopP is double topP)
        {
            builder.Append("\"top_p\":").Append(topP.ToString("R", CultureInfo.InvariantCulture)).Append(',');
        }
        if (!request.HasMaxTokens && defaults.MaxTokens is int maxTokens)
        {
            builder.Append("\"max_tokens\":").Append(maxTokens.ToString(CultureInfo.InvariantCulture)).Append(',');
        }
        return builder.Length == 0 ? [] : Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static byte[] JsonString(string value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value);
}
