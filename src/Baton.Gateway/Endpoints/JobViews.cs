using System.Text.Json;
using Baton.Batching.Jobs;

namespace Baton.Gateway.Endpoints;

/// <summary>A file of the Files API, as OpenAI returns it.</summary>
public sealed record FileObjectView(
    string Id, string Object, long Bytes, long CreatedAt, long? ExpiresAt, string Filename, string Purpose, string Status, string? StatusDetails);

/// <summary>The answer of <c>DELETE /v1/files/{file_id}</c>.</summary>
public sealed record FileDeletedView(string Id, string Object, bool Deleted);

/// <summary>A batch of the Batches API, as OpenAI returns it; times are Unix seconds.</summary>
public sealed record BatchObjectView(
    string Id,
    string Object,
    string Endpoint,
    BatchErrorsView? Errors,
    string InputFileId,
    string CompletionWindow,
    string Status,
    string? OutputFileId,
    string? ErrorFileId,
    long CreatedAt,
    long? InProgressAt,
    long? ExpiresAt,
    long? FinalizingAt,
    long? CompletedAt,
    long? FailedAt,
    long? ExpiredAt,
    long? CancellingAt,
    long? CancelledAt,
    BatchRequestCountsView RequestCounts,
    IReadOnlyDictionary<string, string>? Metadata);

/// <summary>Why a batch failed validation: <c>{"object": "list", "data": [...]}</c>.</summary>
public sealed record BatchErrorsView(string Object, IReadOnlyList<BatchErrorView> Data);

/// <summary>One validation error, naming the input line at fault.</summary>
public sealed record BatchErrorView(string Code, string Message, string? Param, int? Line);

/// <summary>How many of a batch's requests there are, and how many have been answered or have failed.</summary>
public sealed record BatchRequestCountsView(int Total, int Completed, int Failed);

/// <summary>A page of a list, newest first; <c>after</c> = <see cref="LastId"/> asks for the next page.</summary>
public sealed record ListView<T>(string Object, IReadOnlyList<T> Data, string? FirstId, string? LastId, bool HasMore);

/// <summary>Turns stored files and batches into the API's JSON.</summary>
internal static class JobViews
{
    /// <summary>snake_case, and every field written even when null, as OpenAI does.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static FileObjectView ToView(StoredFile file) =>
        new(file.Id, "file", file.Bytes, file.CreatedAt, null, file.Filename, file.Purpose, "processed", null);

    public static BatchObjectView ToView(BatchJob job) => new(
        job.Id,
        "batch",
        job.Endpoint,
        job.Errors is { } errors ? new BatchErrorsView("list", errors.Select(e => new BatchErrorView(e.Code, e.Message, e.Param, e.Line)).ToList()) : null,
        job.InputFileId,
        job.CompletionWindow,
        job.Status,
        job.OutputFileId,
        job.ErrorFileId,
        job.CreatedAt,
        job.InProgressAt,
        job.ExpiresAt,
        job.FinalizingAt,
        job.CompletedAt,
        job.FailedAt,
        job.ExpiredAt,
        job.CancellingAt,
        job.CancelledAt,
        new BatchRequestCountsView(job.Total, job.Completed, job.Failed),
        job.Metadata);

    public static ListView<TView> ToList<TItem, TView>(StoredPage<TItem> page, Func<TItem, TView> view, Func<TView, string> id)
    {
        var data = page.Items.Select(view).ToList();
        return new ListView<TView>("list", data, data.Count > 0 ? id(data[0]) : null, data.Count > 0 ? id(data[^1]) : null, page.HasMore);
    }

    /// <summary>The <c>limit</c> query parameter: 1 to <paramref name="max"/>, <paramref name="fallback"/> when absent.</summary>
    public static int Limit(Microsoft.AspNetCore.Http.HttpRequest request, int fallback, int max)
    {
        var text = request.Query["limit"].ToString();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max
            ? limit
            : throw Errors.BatonException.InvalidRequest($"limit must be a whole number from 1 to {max}; got '{text}'.", "limit", "invalid_value");
    }

    public static string? After(Microsoft.AspNetCore.Http.HttpRequest request) =>
        request.Query["after"].ToString() is { Length: > 0 } after ? after : null;

    public static Errors.BatonException NotFound(string what, string id, string param) =>
        new(Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound, Errors.ErrorTypes.InvalidRequest, $"No {what} with id '{id}'.", param, "not_found");
}
