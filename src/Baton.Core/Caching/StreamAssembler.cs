using System.Text;
using System.Text.Json;
using Baton.Providers;
using Baton.Providers.OpenAi;

namespace Baton.Caching;

/// <summary>
/// Rebuilds a whole <c>chat.completion</c> from the chunks of a stream (content, reasoning, tool calls by
/// index, finish reason, usage), so that a streamed answer can be stored and later served either way.
/// </summary>
public sealed class StreamAssembler
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private readonly SortedDictionary<int, ToolCallParts> _toolCalls = [];
    private string? _id;
    private string? _model;
    private long _created;

    public string? FinishReason { get; private set; }

    public void Add(ReadOnlySpan<byte> chunk)
    {
        using var document = JsonDocument.Parse(chunk.ToArray());
        var root = document.RootElement;
        _id ??= Text(root, "id");
        _model ??= Text(root, "model");
        if (_created == 0 && root.TryGetProperty("created", out var created) && created.TryGetInt64(out var seconds))
        {
            _created = seconds;
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            return;
        }
        foreach (var choice in choices.EnumerateArray())
        {
            if (Text(choice, "finish_reason") is { } finish)
            {
                FinishReason = finish;
            }
            if (choice.TryGetProperty("delta", out var delta))
            {
                AddDelta(delta);
            }
        }
    }

    /// <summary>The assembled answer, or null when the stream never finished.</summary>
    public byte[]? ToCompletion(TokenUsage usage)
    {
        if (FinishReason is null)
        {
            return null;
        }
        var calls = _toolCalls.Values.Select(c => new OpenAiToolCall(c.Id, c.Name, c.Arguments.ToString())).ToList();
        return ChatCompletionWriter.Write(
            _id ?? "chatcmpl-cached",
            _created,
            _model ?? "",
            calls.Count > 0 && _content.Length == 0 ? null : _content.ToString(),
            calls,
            FinishReason,
            usage,
            _reasoning.Length > 0 ? _reasoning.ToString() : null);
    }

    private void AddDelta(JsonElement delta)
    {
        _content.Append(Text(delta, "content"));
        _reasoning.Append(Text(delta, "reasoning_content"));
        if (!delta.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }
        foreach (var call in calls.EnumerateArray())
        {
            var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : _toolCalls.Count;
            if (!_toolCalls.TryGetValue(index, out var parts))
            {
                parts = new ToolCallParts();
                _toolCalls[index] = parts;
            }
            parts.Id = Text(call, "id") ?? parts.Id;
            if (call.TryGetProperty("function", out var function))
            {
                parts.Name = Text(function, "name") ?? parts.Name;
                parts.Arguments.Append(Text(function, "arguments"));
            }
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed class ToolCallParts
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public StringBuilder Arguments { get; } = new();
    }
}
