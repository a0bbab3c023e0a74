using System.Text;
using Baton.Requests;

namespace Baton.Batching.Jobs;

/// <summary>One request of a batch input file, by its 1-based line number.</summary>
internal sealed record BatchJobItem(int Line, string CustomId, ChatRequest Request);

/// <summary>
/// Reads a batch input file (OpenAI's JSONL, one <c>{"custom_id", "method", "url", "body"}</c> a line) the way
/// OpenAI validates it: every line that is not a request, and every repeated <c>custom_id</c>, is an error naming
/// its line, and any error fails the whole batch.
/// </summary>
internal static class BatchJobInput
{
    public static (IReadOnlyList<BatchJobItem> Items, IReadOnlyList<BatchJobError> Errors) Read(byte[] content)
    {
        var items = new List<BatchJobItem>();
        var errors = new List<BatchJobError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        using var reader = new StringReader(Encoding.UTF8.GetString(content));
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (!BatchLine.TryRead(line, out var customId, out var request, out var problem))
            {
                errors.Add(new BatchJobError(problem!.Code, $"Line {number}: {problem.Message}", ParamOf(problem.Code), number));
            }
            else if (!seen.Add(customId!))
            {
                errors.Add(new BatchJobError("duplicate_custom_id", $"Line {number}: the custom_id '{customId}' appears more than once; each must be unique.", "custom_id", number));
            }
            else
            {
                items.Add(new BatchJobItem(number, customId!, request!));
            }
        }
        if (items.Count == 0 && errors.Count == 0)
        {
            errors.Add(new BatchJobError("empty_file", "The input file has no requests.", null, null));
        }
        return (items, errors);
    }

    private static string? ParamOf(string code) => code switch
    {
        "invalid_url" => "url",
        "invalid_method" => "method",
        "invalid_request" => "body",
        _ => null,
    };
}
