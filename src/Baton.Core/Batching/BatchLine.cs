using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers.OpenAi;
using Baton.Requests;

namespace Baton.Batching;

/// <summary>
/// A line of an OpenAI batch input that is not a request: its reason as a code and a message. A line that names its
/// item (a <c>custom_id</c>) but whose body is refused carries the refusal: that item fails alone, with it as its error.
/// </summary>
internal sealed record BatchLineProblem(string Code, string Message, BatonException? Refusal = null, string? Param = null);

/// <summary>The result line of one batch request, and whether it is an error line.</summary>
internal sealed record BatchLineResult(byte[] Line, bool Failed);

/// <summary>
/// One line of an OpenAI batch file, shared by <c>baton batch</c> and the Batches API: reading
/// <c>{"custom_id", "method", "url", "body"}</c>, and writing the result line of its answer
/// <c>{"id", "custom_id", "response": {"status_code", "body"}, "error"}</c>.
/// </summary>
internal static class BatchLine
{
    /// <summary>The only endpoint a batch line may name.</summary>
    public const string ChatCompletionsUrl = "/v1/chat/completions";

    /// <summary>
    /// Reads one line as the file holds it (UTF-8 bytes, so that bytes which are not UTF-8 are refused, not replaced);
    /// false with the problem when it is not a request Baton can answer (with the item's <paramref name="customId"/>
    /// and the problem's refusal when only its body is refused).
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> utf8, out string? customId, out ChatRequest? request, out BatchLineProblem? problem)
    {
        customId = null;
        request = null;
        problem = null;
        try
        {
            JsonStringCheck.Validate(utf8.Span);
            using var document = JsonDocument.Parse(utf8);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } text)
            {
                problem = new("missing_required_parameter", "missing custom_id (a non-empty string)");
                return false;
            }
            customId = text;
            if (root.TryGetProperty("method", out var method) && !(method.ValueKind == JsonValueKind.String && string.Equals(method.GetString(), "POST", StringComparison.OrdinalIgnoreCase)))
            {
                problem = new("invalid_method", "method must be POST");
                return false;
            }
            if (root.TryGetProperty("url", out var url) && !(url.ValueKind == JsonValueKind.String && url.GetString() == ChatCompletionsUrl))
            {
                problem = new("invalid_url", $"url must be {ChatCompletionsUrl}");
                return false;
            }
            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                problem = new("missing_required_parameter", "missing body (a chat completions request)");
                return false;
            }
            request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body.GetRawText()));
            if (request.Stream)
            {
                request = null;
                problem = Refused(BatonException.InvalidRequest("stream is not supported in a batch file", "stream", "invalid_value"));
                return false;
            }
            return true;
        }
        catch (JsonException ex)
        {
            problem = new("invalid_json_line", "not valid JSON: " + ex.Message);
        }
        catch (BatonException ex)
        {
            // Before the custom_id is known (a string that cannot be decoded), the line itself is unusable.
            problem = customId is null ? new(ex.Code ?? "invalid_request", ex.Message, Param: ex.Param) : Refused(ex);
        }
        catch (Exception ex) when (customId is not null && ex is ArgumentException or OverflowException or FormatException)
        {
            // A value the parser let through but cannot represent: the body is refused as a bad request.
            problem = Refused(BatonException.InvalidRequest($"Invalid request body: {ex.Message}", "body", "invalid_value"));
        }
        return false;
    }

    private static BatchLineProblem Refused(BatonException error) => new("invalid_request", error.Message, error);

    /// <summary>The result line of an item as the executor ended it: its answer, or its error.</summary>
    public static BatchLineResult Result(BatchAnswer answer) =>
        answer.Completion is { } completion
            ? new(ResultLine(answer.Entry.Id, 200, completion.Body.Span, null), false)
            : new(ResultLine(answer.Entry.Id, answer.Error!.StatusCode, default, answer.Error), true);

    private static byte[] ResultLine(string customId, int status, ReadOnlySpan<byte> body, BatonException? error)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = OpenAiJson.WriterOptions.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "batch_req_" + Guid.NewGuid().ToString("N"));
            writer.WriteString("custom_id", customId);
            if (error is null)
            {
                writer.WriteStartObject("response");
                writer.WriteNumber("status_code", status);
                writer.WritePropertyName("body");
                writer.WriteRawValue(body, skipInputValidation: true);
                writer.WriteEndObject();
                writer.WriteNull("error");
            }
            else
            {
                writer.WriteNull("response");
                writer.WriteStartObject("error");
                writer.WriteNumber("status_code", status);
                writer.WriteString("code", error.Code ?? error.Type);
                writer.WriteString("message", error.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
