using System.Buffers;
using System.Text;
using System.Text.Json;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Gateway.Fronts.Anthropic;

/// <summary>
/// Turns the engine's stream of <c>chat.completion.chunk</c> payloads into Anthropic's event stream, chunk by chunk:
/// <c>message_start</c> and a <c>ping</c> first; a content block per kind of content as it arrives (<c>thinking</c>
/// with <c>thinking_delta</c>, <c>text</c> with <c>text_delta</c>, one <c>tool_use</c> per call with
/// <c>input_json_delta</c>), each closed by <c>content_block_stop</c> when the next begins; then <c>message_delta</c>
/// with the stop reason and the usage, and <c>message_stop</c>, written only by <see cref="Finish"/>, i.e. only for an
/// answer that ended properly. A cut answer ends with an <c>error</c> event instead (<see cref="Error"/>).
/// </summary>
internal sealed class AnthropicEventWriter(IBufferWriter<byte> output)
{
    private readonly Dictionary<int, int> _blockByToolIndex = [];
    private bool _started;
    private int _blocks;
    private int? _openBlock;
    private string? _openKind;
    private string? _finishReason;
    private TokenUsage? _usage;

    /// <summary>Writes the events of one chunk.</summary>
    public void Chunk(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (!_started)
        {
            Start(String(root, "id"), String(root, "model"));
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            var usageReader = new Utf8JsonReader(Encoding.UTF8.GetBytes(usage.GetRawText()));
            usageReader.Read();
            _usage = OpenAiUsageJson.Read(ref usageReader);
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return;
        }
        var choice = choices[0];
        if (String(choice, "finish_reason") is { } finish)
        {
            _finishReason = finish;
        }
        if (!choice.TryGetProperty("delta", out var delta) || delta.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (String(delta, "reasoning_content") is { Length: > 0 } thinking)
        {
            Open("thinking", () => Block(w =>
            {
                w.WriteString("type", "thinking");
                w.WriteString("thinking", "");
                w.WriteString("signature", "");
            }));
            Delta(_openBlock!.Value, "thinking_delta", "thinking", thinking);
        }
        if (String(delta, "reasoning_signature") is { Length: > 0 } signature && _openKind == "thinking")
        {
            // Anthropic sends the signature last in its thinking block, as this delta.
            Delta(_openBlock!.Value, "signature_delta", "signature", signature);
        }
        if (String(delta, "content") is { Length: > 0 } text)
        {
            Open("text", () => Block(w =>
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }));
            Delta(_openBlock!.Value, "text_delta", "text", text);
        }
        if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                ToolCall(call);
            }
        }
    }

    private void ToolCall(JsonElement call)
    {
        var toolIndex = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var index) ? index : _blockByToolIndex.Count;
        var function = call.TryGetProperty("function", out var f) ? f : default;
        if (!_blockByToolIndex.TryGetValue(toolIndex, out var block))
        {
            var id = String(call, "id") ?? "toolu_" + Guid.NewGuid().ToString("N");
            var name = String(function, "name") ?? "";
            CloseOpenBlock();
            block = Block(w =>
            {
                w.WriteString("type", "tool_use");
                w.WriteString("id", id);
                w.WriteString("name", name);
                w.WriteStartObject("input");
                w.WriteEndObject();
            });
            _openKind = "tool_use";
            _blockByToolIndex[toolIndex] = block;
        }
        if (String(function, "arguments") is { Length: > 0 } fragment)
        {
            Delta(block, "input_json_delta", "partial_json", fragment);
        }
    }

    /// <summary>Ends an answer that ended properly: the open block, the stop reason and usage, <c>message_stop</c>.</summary>
    public void Finish(TokenUsage? usage)
    {
        if (!_started)
        {
            Start(null, null);
        }
        CloseOpenBlock();
        var final = _usage ?? usage ?? default;
        Event("message_delta", w =>
        {
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", AnthropicUsageJson.StopReason(_finishReason));
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            AnthropicUsageJson.Write(w, final);
        });
        Event("message_stop", _ => { });
    }

    /// <summary>Ends a cut answer: an <c>error</c> event, and never <c>message_stop</c>.</summary>
    public void Error(BatonException error)
    {
        var json = AnthropicErrors.ToUtf8(error);
        Raw("error", json);
    }

    private void Start(string? id, string? model)
    {
        _started = true;
        Event("message_start", w =>
        {
            w.WriteStartObject("message");
            w.WriteString("id", AnthropicUsageJson.MessageId(id));
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", model ?? "");
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            // The counts are known at the end, in message_delta; what Anthropic reports up front is not known yet.
            AnthropicUsageJson.Write(w, default);
            w.WriteEndObject();
        });
        Event("ping", _ => { });
    }

    private void Open(string kind, Func<int> open)
    {
        if (_openKind == kind && _openBlock is not null)
        {
            return;
        }
        CloseOpenBlock();
        open();
        _openKind = kind;
    }

    private int Block(Action<Utf8JsonWriter> writeBlock)
    {
        var index = _blocks++;
        Event("content_block_start", w =>
        {
            w.WriteNumber("index", index);
            w.WriteStartObject("content_block");
            writeBlock(w);
            w.WriteEndObject();
        });
        _openBlock = index;
        return index;
    }

    private void CloseOpenBlock()
    {
        if (_openBlock is int index)
        {
            Event("content_block_stop", w => w.WriteNumber("index", index));
        }
        _openBlock = null;
        _openKind = null;
    }

    private void Delta(int index, string type, string field, string value) => Event("content_block_delta", w =>
    {
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("type", type);
        w.WriteString(field, value);
        w.WriteEndObject();
    });

    private void Event(string name, Action<Utf8JsonWriter> writeFields)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", name);
            writeFields(writer);
            writer.WriteEndObject();
        }
        Raw(name, buffer.WrittenSpan);
    }

    private void Raw(string name, ReadOnlySpan<byte> json)
    {
        Write(Encoding.UTF8.GetBytes($"event: {name}\ndata: "));
        Write(json);
        Write("\n\n"u8);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        output.Write(bytes);
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
