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

    /// <summary>
    /// The body to send to a deployment: the client's bytes with the model replaced by <paramref name="upstreamModel"/>,
    /// usage asked for when streaming, and the parameters of <paramref name="defaults"/> the client left out added.
    /// </summary>
    /// <param name="request">The client's request.</param>
    /// <param name="upstreamModel">The deployment's upstream model id.</param>
    /// <param name="defaults">The deployment's parameters (over the configured defaults); null adds none.</param>
    /// <returns>A rented buffer holding the body; the caller disposes of it once sent.</returns>
    public static PooledBuffer Rewrite(ChatRequest request, string upstreamModel, RequestDefaults? defaults)
    {
        var body = request.Body.Span;
        var output = new PooledBuffer(body.Length + upstreamModel.Length + 96);

        var openBrace = body.IndexOf((byte)'{');
        output.Append(body[..(openBrace + 1)]);
        AppendDefaults(output, request, defaults);

        // At most two splices, in the order they occur: the model, and stream_options (when present).
        var model = request.ModelToken;
        var streamOptions = request.Stream ? request.StreamOptionsToken : null;
        var position = openBrace + 1;
        if (streamOptions is Range before && before.Start.Value < model.Start.Value)
        {
            output.Append(body[position..before.Start.Value]);
            output.Append(IncludeUsage);
            position = before.End.Value;
            streamOptions = null;
        }
        output.Append(body[position..model.Start.Value]);
        output.AppendJsonString(upstreamModel);
        position = model.End.Value;
        if (streamOptions is Range after)
        {
            output.Append(body[position..after.Start.Value]);
            output.Append(IncludeUsage);
            position = after.End.Value;
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
        // The options are carried whole: identity, tags and cache directives belong to the request, not to its body.
        appended.Options = request.Options;
        appended.Pinned = request.Pinned;
        appended.LedgerRows = request.LedgerRows;
        return appended;
    }

    /// <summary>Deployment defaults for the parameters the client left out, each followed by a comma.</summary>
    private static void AppendDefaults(PooledBuffer output, ChatRequest request, RequestDefaults? defaults)
    {
        if (defaults is null)
        {
            return;
        }
        if (!request.HasTemperature && defaults.Temperature is double temperature)
        {
            output.Append("\"temperature\":"u8);
            output.AppendFormatted(temperature, "R");
            output.Append((byte)',');
        }
        if (!request.HasTopP && defaults.TopP is double topP)
        {
            output.Append("\"top_p\":"u8);
            output.AppendFormatted(topP, "R");
            output.Append((byte)',');
        }
        if (!request.HasMaxTokens && defaults.MaxTokens is int maxTokens)
        {
            output.Append("\"max_tokens\":"u8);
            output.AppendFormatted(maxTokens);
            output.Append((byte)',');
        }
    }

    private static byte[] JsonString(string value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value);
}
