using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Gateway.Fronts.Responses;

/// <summary>
/// Turns a <c>chat.completion</c> body into Responses output items: the assistant's text (and refusal) as one
/// <c>message</c> item, then one <c>function_call</c> item per tool call, with the status its finish reason means.
/// </summary>
internal static class CompletionOutput
{
    public static (JsonArray Output, string Model, string Status, string? IncompleteReason) Read(ReadOnlySpan<byte> completion, string requestedModel)
    {
        var reader = new Utf8JsonReader(completion);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var model = root.TryGetProperty("model", out var modelName) && modelName.ValueKind == JsonValueKind.String ? modelName.GetString()! : requestedModel;
        var output = new JsonArray();
        string? finishReason = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            finishReason = choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String ? finish.GetString() : null;
            var (status, _) = ResponseObject.StatusOf(finishReason);
            if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                var parts = new JsonArray();
                if (Text(message, "content") is { Length: > 0 } text)
                {
                    parts.Add(ResponsesRequestReader.OutputText(text));
                }
                if (Text(message, "refusal") is { Length: > 0 } refusal)
                {
                    parts.Add(new JsonObject { ["type"] = "refusal", ["refusal"] = refusal });
                }
                if (parts.Count > 0)
                {
                    output.Add(new JsonObject
                    {
                        ["type"] = "message",
                        ["id"] = ResponseIds.Message(),
                        ["status"] = status,
                        ["role"] = "assistant",
                        ["content"] = parts,
                    });
                }
                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        var function = call.TryGetProperty("function", out var f) ? f : default;
                        output.Add(FunctionCall(
                            ResponseIds.FunctionCall(),
                            Text(call, "id") ?? ResponseIds.FunctionCall(),
                            function.ValueKind == JsonValueKind.Object ? Text(function, "name") ?? "" : "",
                            function.ValueKind == JsonValueKind.Object ? Text(function, "arguments") ?? "" : "",
                            status));
                    }
                }
            }
        }
        var (responseStatus, incompleteReason) = ResponseObject.StatusOf(finishReason);
        return (output, model, responseStatus, incompleteReason);
    }

    public static JsonObject FunctionCall(string id, string callId, string name, string arguments, string status) => new()
    {
        ["type"] = "function_call",
        ["id"] = id,
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
        ["status"] = status,
    };

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
