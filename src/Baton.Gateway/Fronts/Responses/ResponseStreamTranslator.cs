using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Errors;
using Baton.Providers;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// Turns <c>chat.completion.chunk</c> payloads into the Responses event sequence: <c>response.created</c> and
/// <c>response.in_progress</c>, then for each output item <c>response.output_item.added</c>, its content parts
/// (<c>response.content_part.added</c>, <c>response.output_text.delta</c>..., <c>response.output_text.done</c>,
/// <c>response.content_part.done</c>) or its arguments (<c>response.function_call_arguments.delta</c>...,
/// <c>.done</c>) and <c>response.output_item.done</c>, and last <c>response.completed</c> (or
/// <c>response.incomplete</c>). Every event carries a <c>sequence_number</c>. A stream cut for good ends with
/// <c>response.failed</c> and an <c>error</c> event, never with <c>response.completed</c>.
/// </summary>
internal sealed class ResponseStreamTranslator(ResponseObject response)
{
    private readonly List<OutputItem> _items = [];
    private readonly Dictionary<int, OutputItem> _calls = [];
    private OutputItem? _message;
    private string? _finishReason;
    private int _sequence;
    private bool _sawModel;

    /// <summary>The events that open the stream; <paramref name="firstChunk"/> tells which model answers, when there is one.</summary>
    public void Start(ReadOnlySpan<byte> firstChunk, List<byte[]> events)
    {
        if (!firstChunk.IsEmpty)
        {
            var reader = new Utf8JsonReader(firstChunk);
            using var document = JsonDocument.ParseValue(ref reader);
            ObserveModel(document.RootElement);
        }
        var started = response.Build("in_progress", []);
        events.Add(Event("response.created", new JsonObject { ["response"] = started }));
        events.Add(Event("response.in_progress", new JsonObject { ["response"] = started.DeepClone() }));
    }

    /// <summary>The events one chunk means (none for a chunk that carries only usage or a role).</summary>
    public void OnChunk(ReadOnlySpan<byte> chunk, List<byte[]> events)
    {
        var reader = new Utf8JsonReader(chunk);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        ObserveModel(root);
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return;
        }
        var choice = choices[0];
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            if (Text(delta, "content") is { Length: > 0 } text)
            {
                AppendToMessage("output_text", text, events);
            }
            if (Text(delta, "refusal") is { Length: > 0 } refusal)
            {
                AppendToMessage("refusal", refusal, events);
            }
            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    AppendToCall(call, events);
                }
            }
        }
        if (Text(choice, "finish_reason") is { } finish)
        {
            _finishReason = finish;
        }
    }

    /// <summary>The events that end a stream read to its end; returns the final response object (to store).</summary>
    public JsonObject Finish(TokenUsage? usage, List<byte[]> events)
    {
        var (status, incompleteReason) = ResponseObject.StatusOf(_finishReason);
        var itemStatus = status == "completed" ? "completed" : "incomplete";
        foreach (var item in _items)
        {
            if (!item.Done)
            {
                Close(item, itemStatus, events);
            }
        }
        var final = response.Build(status, Output(), usage, incompleteReason);
        events.Add(Event(status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = final }));
        return final;
    }

    /// <summary>The events that end a stream cut for good: the response failed, with what it had produced so far.</summary>
    public void Fail(BatonException error, List<byte[]> events)
    {
        foreach (var item in _items)
        {
            if (!item.Done)
            {
                item.Json["status"] = "incomplete";
                if (item.Kind == ItemKind.FunctionCall)
                {
                    item.Json["arguments"] = item.Arguments.ToString();
                }
                else
                {
                    item.Json["content"] = new JsonArray([.. item.Parts.Select(p => (JsonNode)Part(p))]);
                }
            }
        }
        events.Add(Event("response.failed", new JsonObject { ["response"] = response.Build("failed", Output(), error: error) }));
        events.Add(Event("error", new JsonObject { ["code"] = error.Code ?? error.Type, ["message"] = error.Message, ["param"] = error.Param }));
    }

    private void ObserveModel(JsonElement chunk)
    {
        if (!_sawModel && chunk.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String && model.GetString() is { Length: > 0 } name)
        {
            response.Model = name;
            _sawModel = true;
        }
    }

    private void AppendToMessage(string partType, string text, List<byte[]> events)
    {
        if (_message is null or { Done: true })
        {
            _message = new OutputItem(ItemKind.Message, ResponseIds.Message(), _items.Count)
            {
                Json = new JsonObject { ["id"] = "", ["type"] = "message", ["status"] = "in_progress", ["role"] = "assistant", ["content"] = new JsonArray() },
            };
            _message.Json["id"] = _message.Id;
            _items.Add(_message);
            events.Add(Event("response.output_item.added", new JsonObject { ["output_index"] = _message.OutputIndex, ["item"] = _message.Json.DeepClone() }));
        }
        var message = _message;
        if (message.Parts.Count == 0 || message.Parts[^1].Type != partType)
        {
            message.Parts.Add(new ContentPart(partType));
            events.Add(Event("response.content_part.added", new JsonObject
            {
                ["item_id"] = message.Id,
                ["output_index"] = message.OutputIndex,
                ["content_index"] = message.Parts.Count - 1,
                ["part"] = Part(new ContentPart(partType)),
            }));
        }
        var part = message.Parts[^1];
        part.Text.Append(text);
        events.Add(partType == "output_text"
            ? Event("response.output_text.delta", new JsonObject
            {
                ["item_id"] = message.Id,
                ["output_index"] = message.OutputIndex,
                ["content_index"] = message.Parts.Count - 1,
                ["delta"] = text,
                ["logprobs"] = new JsonArray(),
            })
            : Event("response.refusal.delta", new JsonObject
            {
                ["item_id"] = message.Id,
                ["output_index"] = message.OutputIndex,
                ["content_index"] = message.Parts.Count - 1,
                ["delta"] = text,
            }));
    }

    private void AppendToCall(JsonElement call, List<byte[]> events)
    {
        var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : _calls.Count;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        if (!_calls.TryGetValue(index, out var item))
        {
            // The text before a call is finished: its item is done before the call's is added, as OpenAI orders them.
            if (_message is { Done: false } open)
            {
                Close(open, "completed", events);
            }
            item = new OutputItem(ItemKind.FunctionCall, ResponseIds.FunctionCall(), _items.Count)
            {
                CallId = Text(call, "id") ?? ResponseIds.FunctionCall(),
                Name = function.ValueKind == JsonValueKind.Object ? Text(function, "name") ?? "" : "",
            };
            item.Json = CompletionOutput.FunctionCall(item.Id, item.CallId, item.Name, "", "in_progress");
            _calls[index] = item;
            _items.Add(item);
            events.Add(Event("response.output_item.added", new JsonObject { ["output_index"] = item.OutputIndex, ["item"] = item.Json.DeepClone() }));
        }
        else if (item.Name.Length == 0 && function.ValueKind == JsonValueKind.Object && Text(function, "name") is { Length: > 0 } lateName)
        {
            item.Name = lateName;
        }
        if (function.ValueKind == JsonValueKind.Object && Text(function, "arguments") is { Length: > 0 } arguments)
        {
            item.Arguments.Append(arguments);
            events.Add(Event("response.function_call_arguments.delta", new JsonObject
            {
                ["item_id"] = item.Id,
                ["output_index"] = item.OutputIndex,
                ["delta"] = arguments,
            }));
        }
    }

    private void Close(OutputItem item, string status, List<byte[]> events)
    {
        item.Done = true;
        if (item.Kind == ItemKind.Message)
        {
            for (var index = 0; index < item.Parts.Count; index++)
            {
                var part = item.Parts[index];
                var text = part.Text.ToString();
                events.Add(part.Type == "output_text"
                    ? Event("response.output_text.done", new JsonObject
                    {
                        ["item_id"] = item.Id,
                        ["output_index"] = item.OutputIndex,
                        ["content_index"] = index,
                        ["text"] = text,
                        ["logprobs"] = new JsonArray(),
                    })
                    : Event("response.refusal.done", new JsonObject
                    {
                        ["item_id"] = item.Id,
                        ["output_index"] = item.OutputIndex,
                        ["content_index"] = index,
                        ["refusal"] = text,
                    }));
                events.Add(Event("response.content_part.done", new JsonObject
                {
                    ["item_id"] = item.Id,
                    ["output_index"] = item.OutputIndex,
                    ["content_index"] = index,
                    ["part"] = Part(part),
                }));
            }
            item.Json["status"] = status;
            item.Json["content"] = new JsonArray([.. item.Parts.Select(p => (JsonNode)Part(p))]);
        }
        else
        {
            var arguments = item.Arguments.ToString();
            events.Add(Event("response.function_call_arguments.done", new JsonObject
            {
                ["item_id"] = item.Id,
                ["output_index"] = item.OutputIndex,
                ["name"] = item.Name,
                ["arguments"] = arguments,
            }));
            item.Json["name"] = item.Name;
            item.Json["arguments"] = arguments;
            item.Json["status"] = status;
        }
        events.Add(Event("response.output_item.done", new JsonObject { ["output_index"] = item.OutputIndex, ["item"] = item.Json.DeepClone() }));
    }

    private JsonArray Output() => [.. _items.Select(item => item.Json.DeepClone())];

    private static JsonObject Part(ContentPart part) => part.Type == "output_text"
        ? ResponsesRequestReader.OutputText(part.Text.ToString())
        : new JsonObject { ["type"] = "refusal", ["refusal"] = part.Text.ToString() };

    /// <summary>One server-sent event: <c>event: TYPE</c> and the event as JSON, with its type and sequence number first.</summary>
    private byte[] Event(string type, JsonObject fields)
    {
        var payload = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            payload[name] = value;
        }
        var json = ResponseObject.ToUtf8(payload);
        var prefix = Encoding.UTF8.GetBytes($"event: {type}\ndata: ");
        var bytes = new byte[prefix.Length + json.Length + 2];
        prefix.CopyTo(bytes, 0);
        json.CopyTo(bytes, prefix.Length);
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private enum ItemKind
    {
        Message,
        FunctionCall,
    }

    private sealed class OutputItem(ItemKind kind, string id, int outputIndex)
    {
        public ItemKind Kind { get; } = kind;
        public string Id { get; } = id;
        public int OutputIndex { get; } = outputIndex;
        public JsonObject Json { get; set; } = [];
        public List<ContentPart> Parts { get; } = [];
        public StringBuilder Arguments { get; } = new();
        public string CallId { get; init; } = "";
        public string Name { get; set; } = "";
        public bool Done { get; set; }
    }

    private sealed class ContentPart(string type)
    {
        public string Type { get; } = type;
        public StringBuilder Text { get; } = new();
    }
}
