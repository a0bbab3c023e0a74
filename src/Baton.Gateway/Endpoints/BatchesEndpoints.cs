using System.Text.Json;
using Baton.Batching;
using Baton.Batching.Jobs;
using Baton.Configuration;
using Baton.Errors;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// OpenAI's Batches API: create a batch from an uploaded input file, read it, list batches, cancel one. The
/// batch runs in the background (see <c>BatchJobService</c>); its answers become its output and error files.
/// </summary>
internal static class BatchesEndpoints
{
    private const int MaxMetadataPairs = 16;
    private const int MaxMetadataKey = 64;
    private const int MaxMetadataValue = 512;

    public static async Task CreateAsync(HttpContext http, BatchJobRunner runner, BatonOptions options)
    {
        using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
        string inputFileId;
        IReadOnlyDictionary<string, string>? metadata;
        try
        {
            Requests.JsonStringCheck.Validate(body.Memory.Span);
            using var document = JsonDocument.Parse(body.Memory);
            (inputFileId, metadata) = ReadCreate(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest($"The body is not valid JSON: {ex.Message}", null, "invalid_json");
        }
        var file = (await FilesEndpoints.VisibleAsync(http, runner, inputFileId) ? await runner.Store.GetFileAsync(inputFileId, http.RequestAborted) : null)
            ?? throw JobViews.NotFound("file", inputFileId, "input_file_id");
        if (file.Purpose != FilePurposes.Batch)
        {
            throw BatonException.InvalidRequest($"The file '{inputFileId}' has purpose '{file.Purpose}'; a batch's input must have purpose 'batch'.", "input_file_id", "invalid_value");
        }
        var job = await runner.CreateAsync(file, metadata, GatewayAuth.Owner(http), http.RequestAborted) ?? throw JobViews.NotFound("file", inputFileId, "input_file_id");
        await http.Response.WriteAsJsonAsync(JobViews.ToView(job), JobViews.Json, http.RequestAborted);
    }

    public static async Task GetAsync(HttpContext http, BatchJobRunner runner, string batchId)
    {
        if (!await FilesEndpoints.VisibleAsync(http, runner, batchId) || await runner.Store.GetBatchAsync(batchId, http.RequestAborted) is not { } job)
        {
            await ErrorResponses.WriteAsync(http, JobViews.NotFound("batch", batchId, "batch_id"));
            return;
        }
        await http.Response.WriteAsJsonAsync(JobViews.ToView(job), JobViews.Json, http.RequestAborted);
    }

    public static async Task ListAsync(HttpContext http, BatchJobRunner runner)
    {
        var limit = JobViews.Limit(http.Request, 20, 100);
        var page = await runner.Store.ListBatchesAsync(limit, JobViews.After(http.Request), GatewayAuth.VisibleOwner(http), http.RequestAborted);
        await http.Response.WriteAsJsonAsync(JobViews.ToList(page, JobViews.ToView, b => b.Id), JobViews.Json, http.RequestAborted);
    }

    public static async Task CancelAsync(HttpContext http, BatchJobRunner runner, string batchId)
    {
        // Not stopped by the caller leaving: a cancel once asked is carried out.
        var job = await FilesEndpoints.VisibleAsync(http, runner, batchId) ? await runner.CancelAsync(batchId, CancellationToken.None) : null;
        if (job is null)
        {
            await ErrorResponses.WriteAsync(http, JobViews.NotFound("batch", batchId, "batch_id"));
            return;
        }
        if (job.Status is not (BatchStatuses.Cancelling or BatchStatuses.Cancelled))
        {
            await ErrorResponses.WriteAsync(http, new BatonException(StatusCodes.Status409Conflict, ErrorTypes.InvalidRequest,
                $"The batch '{batchId}' is {job.Status} and can no longer be cancelled.", "batch_id", "batch_not_cancellable"));
            return;
        }
        await http.Response.WriteAsJsonAsync(JobViews.ToView(job), JobViews.Json, http.RequestAborted);
    }

    private static (string InputFileId, IReadOnlyDictionary<string, string>? Metadata) ReadCreate(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw BatonException.InvalidRequest("The body must be a JSON object with input_file_id, endpoint and completion_window.", null, "invalid_json");
        }
        var inputFileId = RequiredString(root, "input_file_id");
        var endpoint = RequiredString(root, "endpoint");
        if (endpoint != BatchJobRunner.Endpoint)
        {
            throw BatonException.InvalidRequest($"Unsupported endpoint '{endpoint}': this gateway batches only {BatchJobRunner.Endpoint}.", "endpoint", "invalid_value");
        }
        var window = RequiredString(root, "completion_window");
        if (window != BatchJobRunner.CompletionWindow)
        {
            throw BatonException.InvalidRequest($"Unsupported completion_window '{window}': only '{BatchJobRunner.CompletionWindow}' is supported.", "completion_window", "invalid_value");
        }
        return (inputFileId, ReadMetadata(root));
    }

    private static Dictionary<string, string>? ReadMetadata(JsonElement root)
    {
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            throw BatonException.InvalidRequest("metadata must be an object of string values.", "metadata", "invalid_type");
        }
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in metadata.EnumerateObject())
        {
            if (pair.Value.ValueKind != JsonValueKind.String)
            {
                throw BatonException.InvalidRequest($"metadata.{pair.Name} must be a string.", "metadata", "invalid_type");
            }
            var value = pair.Value.GetString()!;
            if (pair.Name.Length > MaxMetadataKey || value.Length > MaxMetadataValue)
            {
                throw BatonException.InvalidRequest($"metadata keys are at most {MaxMetadataKey} characters and values at most {MaxMetadataValue}.", "metadata", "invalid_value");
            }
            pairs[pair.Name] = value;
        }
        if (pairs.Count > MaxMetadataPairs)
        {
            throw BatonException.InvalidRequest($"metadata holds at most {MaxMetadataPairs} pairs.", "metadata", "invalid_value");
        }
        return pairs;
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw BatonException.InvalidRequest($"Missing '{name}' (a non-empty string).", name, "missing_required_parameter");
}
