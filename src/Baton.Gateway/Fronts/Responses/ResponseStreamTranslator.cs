using System.Buffers;
using System.Text;
using System.Text.Json;
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
        // Both events carry the same response object, written twice rather than built and cloned.
        for (var i = 0; i < 2; i++)
        {
            BeginEvent(i == 0 ? "response.created"u8 : "response.in_progress"u8, events);
            _json.WritePropertyName("response"u8);
            WriteResponse("in_progress");
            EndEvent(events);
        }
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

    /// <summary>
    /// The events that end a stream read to its end, into a buffer of their own (they wait for the response to be
    /// stored); returns the final response object's JSON (to store): the very bytes its last event carries.
    /// </summary>
    public ReadOnlyMemory<byte> Finish(TokenUsage? usage, ArrayBufferWriter<byte> events)
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
        BeginEvent(status == "completed" ? "response.completed"u8 : "response.incomplete"u8, events);
        _json.WritePropertyName("response"u8);
        _json.Flush();
        var start = events.WrittenCount;
        WriteResponse(status, usage, incompleteReason);
        _json.Flush();
        var end = events.WrittenCount;
        EndEvent(events);
        return events.WrittenMemory[start..end];
    }

    /// <summary>The events that end a stream cut for good: the response failed, with what it had produced so far.</summary>
    public void Fail(BatonException error, IBufferWriter<byte> events)
    {
        foreach (var item in _items)
        {
            if (!item.Done)
            {
                // Its content or arguments as far as they came; a call keeps the name it was added with.
                item.Status = "incomplete";
                item.Settled = true;
            }
        }
        BeginEvent("response.failed"u8, events);
        _json.WritePropertyName("response"u8);
        WriteResponse("failed", error: error);
        EndEvent(events);
        BeginEvent("error"u8, events);
        _json.WriteString("code"u8, error.Code ?? error.Type);
        _json.WriteString("message"u8, error.Message);
        if (error.Param is null)
        {
            _json.WriteNull("param"u8);
        }
        else
        {
            _json.WriteString("param"u8, error.Param);
        }
        EndEvent(events);
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
            _message = new OutputItem(ItemKind.Message, ResponseIds.Message(), _items.Count);
            _items.Add(_message);
            ItemEvent("response.output_item.added"u8, _message, events);
        }
        var message = _message;
        if (message.Parts.Count == 0 || message.Parts[^1].Type != partType)
        {
            message.Parts.Add(new ContentPart(partType));
            BeginPartEvent("response.content_part.added"u8, message, message.Parts.Count - 1, events);
            _json.WritePropertyName("part"u8);
            WritePart(partType, "");
            EndEvent(events);
        }
        var part = message.Parts[^1];
        Append(part.Text, text);
        part.TextChanged();
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
            item.ItemName = item.Name;
            _calls[index] = item;
            _items.Add(item);
            ItemEvent("response.output_item.added"u8, item, events);
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
                item.ArgumentsChanged();
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
                var text = part.Value;
                if (part.Type == "output_text")
                {
                    BeginPartEvent("response.output_text.done"u8, item, index, events);
                    _json.WriteString("text"u8, text);
                    _json.WriteStartArray("logprobs"u8);
                    _json.WriteEndArray();
                }
                else
                {
                    BeginPartEvent("response.refusal.done"u8, item, index, events);
                    _json.WriteString("refusal"u8, text);
                }
                EndEvent(events);
                BeginPartEvent("response.content_part.done"u8, item, index, events);
                _json.WritePropertyName("part"u8);
                WritePart(part.Type, text);
                EndEvent(events);
            }
        }
        else
        {
            BeginEvent("response.function_call_arguments.done"u8, events);
            _json.WriteString("item_id"u8, item.Id);
            _json.WriteNumber("output_index"u8, item.OutputIndex);
            _json.WriteString("name"u8, item.Name);
            _json.WriteString("arguments"u8, item.ArgumentsValue);
            EndEvent(events);
            item.ItemName = item.Name;
        }
        item.Status = status;
        item.Settled = true;
        ItemEvent("response.output_item.done"u8, item, events);
    }

    /// <summary>An event with an item (<c>output_item.added</c>, <c>.done</c>): its index and the item as it now is.</summary>
    private void ItemEvent(ReadOnlySpan<byte> type, OutputItem item, IBufferWriter<byte> events)
    {
        BeginEvent(type, events);
        _json.WriteNumber("output_index"u8, item.OutputIndex);
        _json.WritePropertyName("item"u8);
        WriteItem(item);
        EndEvent(events);
    }

    /// <summary>Opens an event about one content part of a message: its item, output index and content index.</summary>
    private void BeginPartEvent(ReadOnlySpan<byte> type, OutputItem message, int contentIndex, IBufferWriter<byte> events)
    {
        BeginEvent(type, events);
        _json.WriteString("item_id"u8, message.Id);
        _json.WriteNumber("output_index"u8, message.OutputIndex);
        _json.WriteNumber("content_index"u8, contentIndex);
    }

    /// <summary>The response object with the items so far, as <see cref="ResponseObject.Build"/> would make it.</summary>
    private void WriteResponse(string status, TokenUsage? usage = null, string? incompleteReason = null, BatonException? error = null)
    {
        response.WriteStart(_json, status, incompleteReason, error);
        _json.WriteStartArray();
        foreach (var item in _items)
        {
            WriteItem(item);
        }
        _json.WriteEndArray();
        response.WriteEnd(_json, usage);
    }

    /// <summary>
    /// An output item in its fields' order: a message's content, and a call's arguments, shown once it is settled
    /// (done or failed); until then, the empty content and arguments it was added with.
    /// </summary>
    private void WriteItem(OutputItem item)
    {
        _json.WriteStartObject();
        if (item.Kind == ItemKind.Message)
        {
            _json.WriteString("id"u8, item.Id);
            _json.WriteString("type"u8, "message"u8);
            _json.WriteString("status"u8, item.Status);
            _json.WriteString("role"u8, "assistant"u8);
            _json.WriteStartArray("content"u8);
            if (item.Settled)
            {
                foreach (var part in item.Parts)
                {
                    WritePart(part.Type, part.Value);
                }
            }
            _json.WriteEndArray();
        }
        else
        {
            _json.WriteString("type"u8, "function_call"u8);
            _json.WriteString("id"u8, item.Id);
            _json.WriteString("call_id"u8, item.CallId);
            _json.WriteString("name"u8, item.ItemName);
            _json.WriteString("arguments"u8, item.Settled ? item.ArgumentsValue : "");
            _json.WriteString("status"u8, item.Status);
        }
        _json.WriteEndObject();
    }

    /// <summary>A content part as <see cref="ResponsesRequestReader.OutputText"/> makes an output text, or a refusal.</summary>
    private void WritePart(string type, string text)
    {
        _json.WriteStartObject();
        if (type == "output_text")
        {
            _json.WriteString("type"u8, "output_text"u8);
            _json.WriteString("text"u8, text);
            _json.WriteStartArray("annotations"u8);
            _json.WriteEndArray();
        }
        else
        {
            _json.WriteString("type"u8, "refusal"u8);
            _json.WriteString("refusal"u8, text);
        }
        _json.WriteEndObject();
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
        private string? _arguments;

        public ItemKind Kind { get; } = kind;
        public string Id { get; } = id;
        public int OutputIndex { get; } = outputIndex;
        public List<ContentPart> Parts { get; } = [];
        public StringBuilder Arguments { get; } = new();
        public string CallId { get; init; } = "";
        public string Name { get; set; } = "";

        /// <summary>A call's name as its item shows it: the name it was added with, until it is done.</summary>
        public string ItemName { get; set; } = "";

        /// <summary><c>in_progress</c> until the item is done (<c>completed</c>, <c>incomplete</c>) or the stream failed.</summary>
        public string Status { get; set; } = "in_progress";

        /// <summary>Whether the item shows its content or arguments: once done, or when the stream failed.</summary>
        public bool Settled { get; set; }

        public bool Done { get; set; }

        /// <summary>The arguments as one string, made once however many events show them.</summary>
        public string ArgumentsValue => _arguments ??= Arguments.ToString();

        public void ArgumentsChanged() => _arguments = null;
    }

    private sealed class ContentPart(string type)
    {
        private string? _value;

        public string Type { get; } = type;
        public StringBuilder Text { get; } = new();

        /// <summary>The text as one string, made once however many events show it.</summary>
        public string Value => _value ??= Text.ToString();

        public void TextChanged() => _value = null;
    }
}
