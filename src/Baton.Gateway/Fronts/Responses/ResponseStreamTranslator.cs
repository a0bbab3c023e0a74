using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Errors;
using Baton.Providers;
using Baton.Providers.OpenAi;

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
/// <remarks>
/// Each chunk is taken from its one reading (<see cref="StreamChunkReader"/>, done by the provider as it arrived),
/// not parsed again; events are written by one reused <see cref="Utf8JsonWriter"/> into the buffer given, the
/// deltas (the events of every chunk) field by field rather than as JSON nodes.
/// </remarks>
internal sealed class ResponseStreamTranslator(ResponseObject response) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(Stream.Null, OpenAiJson.WriterOptions);
    private StreamChunkReader? _reader;
    private char[] _chars = [];
    private readonly List<OutputItem> _items = [];
    private readonly Dictionary<int, OutputItem> _calls = [];
    private OutputItem? _message;
    private string? _finishReason;
    private int _sequence;
    private bool _sawModel;

    /// <summary>The events that open the stream; <paramref name="firstChunk"/> tells which model answers, when there is one.</summary>
    /// <exception cref="JsonException">The chunk has no reading and is not valid JSON.</exception>
    public void Start(in StreamChunk firstChunk, IBufferWriter<byte> events)
    {
        if (!firstChunk.Json.IsEmpty)
        {
            ObserveModel(StreamChunkReader.Of(firstChunk, ref _reader));
        }
        var started = response.Build("in_progress", []);
        Event("response.created", new JsonObject { ["response"] = started }, events);
        Event("response.in_progress", new JsonObject { ["response"] = started.DeepClone() }, events);
    }

    /// <summary>The events one chunk means (none for a chunk that carries only usage or a role).</summary>
    /// <exception cref="JsonException">The chunk has no reading and is not valid JSON.</exception>
    public void OnChunk(in StreamChunk chunk, IBufferWriter<byte> events)
    {
        var reading = StreamChunkReader.Of(chunk, ref _reader);
        ObserveModel(reading);
        if (reading.ChoiceCount <= 0)
        {
            return;
        }
        // The first choice only (a response has one); whatever the order of the delta's fields: text, refusal, calls.
        var texts = reading.Texts.AsSpan()[..reading.FirstChoiceTextCount];
        foreach (var text in texts)
        {
            if (text.Kind == ChunkTextKind.Content && text.TextLength > 0)
            {
                AppendToMessage(PartKind.OutputText, reading.TextOf(text), events);
            }
        }
        foreach (var text in texts)
        {
            if (text.Kind == ChunkTextKind.Refusal && text.TextLength > 0)
            {
                AppendToMessage(PartKind.Refusal, reading.TextOf(text), events);
            }
        }
        for (var i = 0; i < texts.Length; i++)
        {
            if (texts[i].Kind == ChunkTextKind.ToolCall)
            {
                // A call's fields are the texts that follow its mark, up to the next call's.
                var end = i + 1;
                while (end < texts.Length && texts[end].Kind is ChunkTextKind.ToolId or ChunkTextKind.ToolName or ChunkTextKind.ToolArguments)
                {
                    end++;
                }
                AppendToCall(reading, texts[i], texts[(i + 1)..end], events);
                i = end - 1;
            }
        }
        if (reading.FirstChoiceFinishReason is { } finish)
        {
            _finishReason = finish;
        }
    }

    /// <summary>The events that end a stream read to its end; returns the final response object (to store).</summary>
    public JsonObject Finish(TokenUsage? usage, IBufferWriter<byte> events)
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
        Event(status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = final }, events);
        return final;
    }

    /// <summary>The events that end a stream cut for good: the response failed, with what it had produced so far.</summary>
    public void Fail(BatonException error, IBufferWriter<byte> events)
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
        Event("response.failed", new JsonObject { ["response"] = response.Build("failed", Output(), error: error) }, events);
        Event("error", new JsonObject { ["code"] = error.Code ?? error.Type, ["message"] = error.Message, ["param"] = error.Param }, events);
    }

    private void ObserveModel(StreamChunkReader chunk)
    {
        if (!_sawModel && chunk.Model is { Length: > 0 } name)
        {
            response.Model = name;
            _sawModel = true;
        }
    }

    private void AppendToMessage(PartKind kind, ReadOnlySpan<byte> text, IBufferWriter<byte> events)
    {
        var partType = kind == PartKind.OutputText ? "output_text" : "refusal";
        if (_message is null or { Done: true })
        {
            _message = new OutputItem(ItemKind.Message, ResponseIds.Message(), _items.Count)
            {
                Json = new JsonObject { ["id"] = "", ["type"] = "message", ["status"] = "in_progress", ["role"] = "assistant", ["content"] = new JsonArray() },
            };
            _message.Json["id"] = _message.Id;
            _items.Add(_message);
            Event("response.output_item.added", new JsonObject { ["output_index"] = _message.OutputIndex, ["item"] = _message.Json.DeepClone() }, events);
        }
        var message = _message;
        if (message.Parts.Count == 0 || message.Parts[^1].Type != partType)
        {
            message.Parts.Add(new ContentPart(partType));
            Event("response.content_part.added", new JsonObject
            {
                ["item_id"] = message.Id,
                ["output_index"] = message.OutputIndex,
                ["content_index"] = message.Parts.Count - 1,
                ["part"] = Part(new ContentPart(partType)),
            }, events);
        }
        var part = message.Parts[^1];
        Append(part.Text, text);
        var type = kind == PartKind.OutputText ? "response.output_text.delta"u8 : "response.refusal.delta"u8;
        BeginEvent(type, events);
        _json.WriteString("item_id"u8, message.Id);
        _json.WriteNumber("output_index"u8, message.OutputIndex);
        _json.WriteNumber("content_index"u8, message.Parts.Count - 1);
        _json.WriteString("delta"u8, text);
        if (kind == PartKind.OutputText)
        {
            _json.WriteStartArray("logprobs"u8);
            _json.WriteEndArray();
        }
        EndEvent(events);
    }

    private void AppendToCall(StreamChunkReader reading, in ChunkText call, ReadOnlySpan<ChunkText> fields, IBufferWriter<byte> events)
    {
        var index = call.ToolIndexGiven ? call.Tool : _calls.Count;
        var name = Last(reading, fields, ChunkTextKind.ToolName);
        if (!_calls.TryGetValue(index, out var item))
        {
            // The text before a call is finished: its item is done before the call's is added, as OpenAI orders them.
            if (_message is { Done: false } open)
            {
                Close(open, "completed", events);
            }
            item = new OutputItem(ItemKind.FunctionCall, ResponseIds.FunctionCall(), _items.Count)
            {
                CallId = Last(reading, fields, ChunkTextKind.ToolId) ?? ResponseIds.FunctionCall(),
                Name = name ?? "",
            };
            item.Json = CompletionOutput.FunctionCall(item.Id, item.CallId, item.Name, "", "in_progress");
            _calls[index] = item;
            _items.Add(item);
            Event("response.output_item.added", new JsonObject { ["output_index"] = item.OutputIndex, ["item"] = item.Json.DeepClone() }, events);
        }
        else if (item.Name.Length == 0 && name is { Length: > 0 } lateName)
        {
            item.Name = lateName;
        }
        foreach (var field in fields)
        {
            if (field.Kind == ChunkTextKind.ToolArguments && field.TextLength > 0)
            {
                var arguments = reading.TextOf(field);
                Append(item.Arguments, arguments);
                BeginEvent("response.function_call_arguments.delta"u8, events);
                _json.WriteString("item_id"u8, item.Id);
                _json.WriteNumber("output_index"u8, item.OutputIndex);
                _json.WriteString("delta"u8, arguments);
                EndEvent(events);
            }
        }
    }

    /// <summary>The text of a call's last field of <paramref name="kind"/> (as a JSON object's last duplicate wins), decoded.</summary>
    private static string? Last(StreamChunkReader reading, ReadOnlySpan<ChunkText> fields, ChunkTextKind kind)
    {
        for (var i = fields.Length - 1; i >= 0; i--)
        {
            if (fields[i].Kind == kind)
            {
                return Encoding.UTF8.GetString(reading.TextOf(fields[i]));
            }
        }
        return null;
    }

    /// <summary>Appends UTF-8 text through one reused char buffer rather than a string per delta.</summary>
    private void Append(StringBuilder text, ReadOnlySpan<byte> utf8)
    {
        var most = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (_chars.Length < most)
        {
            _chars = new char[Math.Max(most, 256)];
        }
        var length = Encoding.UTF8.GetChars(utf8, _chars);
        text.Append(_chars, 0, length);
    }

    private void Close(OutputItem item, string status, IBufferWriter<byte> events)
    {
        item.Done = true;
        if (item.Kind == ItemKind.Message)
        {
            for (var index = 0; index < item.Parts.Count; index++)
            {
                var part = item.Parts[index];
                var text = part.Text.ToString();
                if (part.Type == "output_text")
                {
                    Event("response.output_text.done", new JsonObject
                    {
                        ["item_id"] = item.Id,
                        ["output_index"] = item.OutputIndex,
                        ["content_index"] = index,
                        ["text"] = text,
                        ["logprobs"] = new JsonArray(),
                    }, events);
                }
                else
                {
                    Event("response.refusal.done", new JsonObject
                    {
                        ["item_id"] = item.Id,
                        ["output_index"] = item.OutputIndex,
                        ["content_index"] = index,
                        ["refusal"] = text,
                    }, events);
                }
                Event("response.content_part.done", new JsonObject
                {
                    ["item_id"] = item.Id,
                    ["output_index"] = item.OutputIndex,
                    ["content_index"] = index,
                    ["part"] = Part(part),
                }, events);
            }
            item.Json["status"] = status;
            item.Json["content"] = new JsonArray([.. item.Parts.Select(p => (JsonNode)Part(p))]);
        }
        else
        {
            var arguments = item.Arguments.ToString();
            Event("response.function_call_arguments.done", new JsonObject
            {
                ["item_id"] = item.Id,
                ["output_index"] = item.OutputIndex,
                ["name"] = item.Name,
                ["arguments"] = arguments,
            }, events);
            item.Json["name"] = item.Name;
            item.Json["arguments"] = arguments;
            item.Json["status"] = status;
        }
        Event("response.output_item.done", new JsonObject { ["output_index"] = item.OutputIndex, ["item"] = item.Json.DeepClone() }, events);
    }

    private JsonArray Output() => [.. _items.Select(item => item.Json.DeepClone())];

    private static JsonObject Part(ContentPart part) => part.Type == "output_text"
        ? ResponsesRequestReader.OutputText(part.Text.ToString())
        : new JsonObject { ["type"] = "refusal", ["refusal"] = part.Text.ToString() };

    /// <summary>One server-sent event: <c>event: TYPE</c> and the event as JSON, with its type and sequence number first.</summary>
    private void Event(string type, JsonObject fields, IBufferWriter<byte> events)
    {
        BeginEvent(Encoding.UTF8.GetBytes(type), events);
        foreach (var (name, value) in fields)
        {
            _json.WritePropertyName(name);
            if (value is null)
            {
                _json.WriteNullValue();
            }
            else
            {
                value.WriteTo(_json, ResponseObject.Json);
            }
        }
        EndEvent(events);
    }

    /// <summary>Writes <c>event: TYPE</c>, <c>data: </c> and opens the event's object with its type and sequence number.</summary>
    private void BeginEvent(ReadOnlySpan<byte> type, IBufferWriter<byte> events)
    {
        events.Write("event: "u8);
        events.Write(type);
        events.Write("\ndata: "u8);
        _json.Reset(events);
        _json.WriteStartObject();
        _json.WriteString("type"u8, type);
        _json.WriteNumber("sequence_number"u8, _sequence++);
    }

    /// <summary>Closes the event's object and the event; the JSON goes into the buffer before the blank line.</summary>
    private void EndEvent(IBufferWriter<byte> events)
    {
        _json.WriteEndObject();
        _json.Flush();
        events.Write("\n\n"u8);
    }

    /// <summary>Returns the reading's pooled buffer; the events already written stay where they were written.</summary>
    public void Dispose()
    {
        // Anything half-written by an event that failed is dropped, not flushed after the stream's end.
        _json.Reset();
        _json.Dispose();
        _reader?.Dispose();
    }

    private enum PartKind
    {
        OutputText,
        Refusal,
    }

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
