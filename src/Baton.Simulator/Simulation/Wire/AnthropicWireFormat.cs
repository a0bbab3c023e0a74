using System.Buffers;
using System.Text;
using System.Text.Json;
using Baton.Providers.OpenAi;

namespace Baton.Simulation.Wire;

/// <summary>
/// Anthropic's Messages API: a <c>message</c> object, or the named SSE events <c>message_start</c>,
/// <c>content_block_start</c>, <c>content_block_delta</c>, <c>content_block_stop</c>, <c>message_delta</c>
/// and <c>message_stop</c>; errors as <c>{"type":"error","error":{"type","message"}}</c>. A reasoning model's answer
/// begins with a signed <c>thinking</c> block, as Claude's do with extended thinking.
/// </summary>
public sealed class AnthropicWireFormat : ISimulatorWireFormat
{
    public string StreamContentType => "text/event-stream";

    public byte[] RenderCompletion(SimulatedAnswer answer) => Json(w =>
    {
        w.WriteString("id", MessageId(answer));
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", answer.Model);
        w.WriteStartArray("content");
        if (Thinking(answer) is { } thinking)
        {
            w.WriteStartObject();
            w.WriteString("type", "thinking");
            w.WriteString("thinking", thinking);
            w.WriteString("signature", Signature(answer));
            w.WriteEndObject();
        }
        if (answer.ToolCall is { } call)
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", ToolUseId(call));
            w.WriteString("name", call.Name);
            w.WritePropertyName("input");
            w.WriteRawValue(call.ArgumentsJson);
            w.WriteEndObject();
        }
        else
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteString("text", answer.Text);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("stop_reason", StopReason(answer.FinishReason));
        w.WriteNull("stop_sequence");
        WriteUsage(w, answer, output: answer.Usage.CompletionTokens);
    });

    /// <summary>Deltas are the Content frames a <c>cut:N</c> fault counts; the closing events are Finish and Usage.</summary>
    public IEnumerable<(byte[] Frame, SimulatedChunkKind Kind)> RenderStream(SimulatedAnswer answer)
    {
        yield return (Event("message_start", w =>
        {
            w.WriteStartObject("message");
            w.WriteString("id", MessageId(answer));
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", answer.Model);
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            // As Anthropic does: the input count up front, a token or so of output so far.
            WriteUsage(w, answer, output: 1);
            w.WriteEndObject();
        }), SimulatedChunkKind.Role);

        var index = 0;
        if (Thinking(answer) is { } thinking)
        {
            yield return (Event("content_block_start", w =>
            {
                w.WriteNumber("index", 0);
                w.WriteStartObject("content_block");
                w.WriteString("type", "thinking");
                w.WriteString("thinking", "");
                w.WriteString("signature", "");
                w.WriteEndObject();
            }), SimulatedChunkKind.Role);
            yield return (Delta(0, "thinking_delta", "thinking", thinking), SimulatedChunkKind.Role);
            yield return (Delta(0, "signature_delta", "signature", Signature(answer)), SimulatedChunkKind.Role);
            yield return (Event("content_block_stop", w => w.WriteNumber("index", 0)), SimulatedChunkKind.Role);
            index = 1;
        }

        yield return (Event("content_block_start", w =>
        {
            w.WriteNumber("index", index);
            w.WriteStartObject("content_block");
            if (answer.ToolCall is { } call)
            {
                w.WriteString("type", "tool_use");
                w.WriteString("id", ToolUseId(call));
                w.WriteString("name", call.Name);
                w.WriteStartObject("input");
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }
            w.WriteEndObject();
        }), SimulatedChunkKind.Role);
        yield return (Event("ping", _ => { }), SimulatedChunkKind.Role);

        var deltas = answer.ToolCall is { } tool
            ? OpenAiAnswerRenderer.SplitArguments(tool.ArgumentsJson).Select(f => ("input_json_delta", "partial_json", f))
            : answer.Pieces.Select(p => ("text_delta", "text", p));
        foreach (var (type, field, value) in deltas)
        {
            yield return (Delta(index, type, field, value), SimulatedChunkKind.Content);
        }

        yield return (Event("content_block_stop", w => w.WriteNumber("index", index)), SimulatedChunkKind.Finish);
        yield return (Event("message_delta", w =>
        {
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", StopReason(answer.FinishReason));
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("output_tokens", answer.Usage.CompletionTokens);
            w.WriteEndObject();
        }), SimulatedChunkKind.Finish);
        yield return (Event("message_stop", _ => { }), SimulatedChunkKind.Usage);
    }

    public byte[] RenderError(int status, string message) => Json(w =>
    {
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", ErrorType(status));
        w.WriteString("message", message);
        w.WriteEndObject();
    });

    public byte[] MalformedFrame =>
        Encoding.UTF8.GetBytes("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":\n\n");

    /// <summary>The error types Anthropic documents for each status.</summary>
    public static string ErrorType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };

    private static string StopReason(string finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        _ => "end_turn",
    };

    // The simulator's ids are OpenAI-style; Anthropic's carry their own prefixes.
    private static string MessageId(SimulatedAnswer answer) => "msg_" + answer.Id[(answer.Id.IndexOf('-') + 1)..];

    private static string ToolUseId(SimulatedToolCall call) => "toolu_" + call.Id[(call.Id.IndexOf('_') + 1)..];

    private static byte[] Delta(int index, string type, string field, string value) => Event("content_block_delta", w =>
    {
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("type", type);
        w.WriteString(field, value);
        w.WriteEndObject();
    });

    /// <summary>A reasoning answer's thinking: a word per reasoning token, up to a short paragraph; null without reasoning.</summary>
    private static string? Thinking(SimulatedAnswer answer) => answer.Usage.ReasoningTokens > 0
        ? string.Join(' ', Enumerable.Range(1, Math.Min(answer.Usage.ReasoningTokens, 24)).Select(i => i == 1 ? "Reasoning:" : "step" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        : null;

    /// <summary>A signature that changes with the answer, as Anthropic's opaque ones do.</summary>
    private static string Signature(SimulatedAnswer answer) => "sim-signature-" + Convert.ToBase64String(Encoding.UTF8.GetBytes(answer.Id));

    private static void WriteUsage(Utf8JsonWriter w, SimulatedAnswer answer, int output)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", answer.Usage.PromptTokens);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", 0);
        w.WriteNumber("output_tokens", output);
        w.WriteEndObject();
    }

    private static byte[] Event(string name, Action<Utf8JsonWriter> writeFields)
    {
        var json = Json(w =>
        {
            w.WriteString("type", name);
            writeFields(w);
        });
        return [.. Encoding.UTF8.GetBytes($"event: {name}\ndata: "), .. json, .. "\n\n"u8];
    }

    private static byte[] Json(Action<Utf8JsonWriter> writeFields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writeFields(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
