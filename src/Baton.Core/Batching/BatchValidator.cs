using System.Text.Json;
using Baton.Errors;
using Baton.Routing;

namespace Baton.Batching;

/// <summary>One invalid field of a batch, by its path (e.g. <c>requests[3].messages[0].content</c>).</summary>
public sealed record FieldError(string Param, string Message);

/// <summary>A request that failed validation: 422, listing every offending field (nothing was sent upstream).</summary>
public sealed class BatonValidationException(IReadOnlyList<FieldError> errors)
    : BatonException(422, ErrorTypes.InvalidRequest,
        $"The batch is not valid: {string.Join("; ", errors.Select(e => $"{e.Param}: {e.Message}"))}",
        errors.Count > 0 ? errors[0].Param : null, "validation_failed")
{
    /// <summary>Every invalid field, in the order found; the first is also the error's <c>param</c>.</summary>
    public IReadOnlyList<FieldError> Errors { get; } = errors;
}

/// <summary>
/// Checks a batch against seed 001's contract and reports every problem at once: from the raw JSON (so that
/// a wrong type is named by its path rather than failing the whole parse) and from the typed request.
/// </summary>
public static class BatchValidator
{
    /// <summary>The most requests in one <c>POST /batch</c> (seed 001).</summary>
    public const int MaxItems = 100;
    /// <summary>The most characters in one message's content (seed 001).</summary>
    public const int MaxContentLength = 50_000;
    private static readonly string[] Roles = ["system", "user", "assistant"];

    /// <summary>Reads a <c>POST /batch</c> body; throws <see cref="BatonValidationException"/> listing every problem.</summary>
    public static BatchRequest Read(JsonElement root, ModelCatalog catalog)
    {
        var errors = new List<FieldError>();
        var batch = new BatchRequest();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("requests", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            throw new BatonValidationException([new FieldError("requests", "required: a list of 1 to 100 requests")]);
        }
        var index = 0;
        foreach (var element in items.EnumerateArray())
        {
            batch.Requests.Add(ReadItem(element, $"requests[{index++}]", errors));
        }
        // A field already reported for its type is not reported again for its value.
        errors.AddRange(Check(batch, catalog).Where(e => !errors.Exists(x => x.Param == e.Param)));
        if (errors.Count > 0)
        {
            throw new BatonValidationException(errors);
        }
        return batch;
    }

    /// <summary>Throws <see cref="BatonValidationException"/> listing every problem of a typed batch.</summary>
    public static void Validate(BatchRequest batch, ModelCatalog catalog)
    {
        var errors = Check(batch, catalog);
        if (errors.Count > 0)
        {
            throw new BatonValidationException(errors);
        }
    }

    private static List<FieldError> Check(BatchRequest batch, ModelCatalog catalog)
    {
        var errors = new List<FieldError>();
        if (batch.Requests.Count is 0 or > MaxItems)
        {
            errors.Add(new FieldError("requests", $"must hold 1 to {MaxItems} requests, not {batch.Requests.Count}"));
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Requests.Count; i++)
        {
            var item = batch.Requests[i];
            var path = $"requests[{i}]";
            if (string.IsNullOrWhiteSpace(item.Provider))
            {
                errors.Add(new FieldError(path + ".provider", "required"));
            }
            else if (!catalog.HasProvider(item.Provider))
            {
                errors.Add(new FieldError(path + ".provider", $"'{item.Provider}' is not a configured provider"));
            }
            if (string.IsNullOrWhiteSpace(item.Model))
            {
                errors.Add(new FieldError(path + ".model", "required"));
            }
            if (item.Messages.Count == 0)
            {
                errors.Add(new FieldError(path + ".messages", "must contain at least one message"));
            }
            for (var j = 0; j < item.Messages.Count; j++)
            {
                CheckMessage(item.Messages[j], $"{path}.messages[{j}]", errors);
            }
            if (item.Temperature is < 0 or > 2 || item.Temperature is double t && double.IsNaN(t))
            {
                errors.Add(new FieldError(path + ".temperature", "must be between 0.0 and 2.0"));
            }
            if (item.MaxTokens is < 1 or > 32_000)
            {
                errors.Add(new FieldError(path + ".max_tokens", "must be between 1 and 32000"));
            }
            if (item.RequestId is { } id && !ids.Add(id))
            {
                errors.Add(new FieldError(path + ".request_id", $"'{id}' is used by another request of the batch"));
            }
        }
        return errors;
    }

    private static void CheckMessage(BatchMessage message, string path, List<FieldError> errors)
    {
        if (message.Role is null || !Roles.Contains(message.Role))
        {
            errors.Add(new FieldError(path + ".role", "must be 'system', 'user' or 'assistant'"));
        }
        if (string.IsNullOrWhiteSpace(message.Content))
        {
            errors.Add(new FieldError(path + ".content", "must not be empty or whitespace"));
        }
        else if (message.Content.Length > MaxContentLength)
        {
            errors.Add(new FieldError(path + ".content", $"must be at most {MaxContentLength} characters, not {message.Content.Length}"));
        }
    }

    private static BatchItem ReadItem(JsonElement element, string path, List<FieldError> errors)
    {
        var item = new BatchItem();
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, "must be an object"));
            return item;
        }
        item.Provider = String(element, "provider", path, errors);
        item.Model = String(element, "model", path, errors);
        item.RequestId = String(element, "request_id", path, errors);
        if (element.TryGetProperty("temperature", out var temperature) && temperature.ValueKind != JsonValueKind.Null)
        {
            if (temperature.ValueKind == JsonValueKind.Number) item.Temperature = temperature.GetDouble();
            else errors.Add(new FieldError(path + ".temperature", "must be a number"));
        }
        if (element.TryGetProperty("max_tokens", out var maxTokens) && maxTokens.ValueKind != JsonValueKind.Null)
        {
            if (maxTokens.ValueKind == JsonValueKind.Number && maxTokens.TryGetInt32(out var n)) item.MaxTokens = n;
            else errors.Add(new FieldError(path + ".max_tokens", "must be an integer"));
        }
        if (element.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            var j = 0;
            foreach (var message in messages.EnumerateArray())
            {
                var messagePath = $"{path}.messages[{j++}]";
                if (message.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new FieldError(messagePath, "must be an object"));
                    continue;
                }
                item.Messages.Add(new BatchMessage { Role = String(message, "role", messagePath, errors), Content = String(message, "content", messagePath, errors) });
            }
        }
        else if (element.TryGetProperty("messages", out _))
        {
            errors.Add(new FieldError(path + ".messages", "must be a list of messages"));
        }
        return item;
    }

    private static string? String(JsonElement element, string name, string path, List<FieldError> errors)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        errors.Add(new FieldError($"{path}.{name}", "must be a string"));
        return null;
    }
}
