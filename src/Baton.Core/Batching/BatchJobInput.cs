using System.Text;
using Baton.Requests;

namespace Baton.Batching;

/// <summary>One request of a batch input file, by its 1-based line number.</summary>
internal sealed record BatchJobItem(int Line, string CustomId, ChatRequest Request);

/// <summary>Why a line of a batch input (or a whole batch) failed: OpenAI's <c>errors.data[]</c> item.</summary>
internal sealed record BatchJobError(string Code, string Message, string? Param, int? Line);

/// <summary>
/// Reads a batch input file (OpenAI's JSONL, one <c>{"custom_id", "method", "url", "body"}</c> a line) the way
/// OpenAI validates it: every line that is not a request, and every repeated <c>custom_id</c>, is an error naming
/// its line, and any error fails the whole batch.
/// </summary>
internal static class BatchJobInput
{
    /// <summary>Reads an uploaded input file: UTF-8, a leading byte-order mark ignored; no request at all is an error too.</summary>
    public static (IReadOnlyList<BatchJobItem> Items, IReadOnlyList<BatchJobError> Errors) Read(byte[] content)
    {
        var text = content.AsSpan();
        if (text.StartsWith(Encoding.UTF8.Preamble))
        {
            text = text[Encoding.UTF8.Preamble.Length..];
        }
        var (items, problems) = Read(Lines(Encoding.UTF8.GetString(text)));
        if (items.Count == 0 && problems.Count == 0)
        {
            return (items, [new BatchJobError("empty_file", "The input file has no requests.", null, null)]);
        }
        return (items, problems.Select(p => new BatchJobError(p.Problem.Code, $"Line {p.Line}: {p.Problem.Message}", ParamOf(p.Problem.Code), p.Line)).ToList());
    }

    /// <summary>
    /// Reads input lines, shared by <c>baton batch</c> and the Batches API: each request with its line number, and a
    /// problem for each line that is not a request or repeats an earlier <c>custom_id</c>; blank lines are skipped.
    /// </summary>
    public static (IReadOnlyList<BatchJobItem> Items, IReadOnlyList<(int Line, BatchLineProblem Problem)> Problems) Read(IEnumerable<string> lines)
    {
        var items = new List<BatchJobItem>();
        var problems = new List<(int Line, BatchLineProblem Problem)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (!BatchLine.TryRead(line, out var customId, out var request, out var problem))
            {
                problems.Add((number, problem!));
            }
            else if (!seen.Add(customId!))
            {
                problems.Add((number, new BatchLineProblem("duplicate_custom_id", $"the custom_id '{customId}' appears more than once; each must be unique")));
            }
            else
            {
                items.Add(new BatchJobItem(number, customId!, request!));
            }
        }
        return (items, problems);
    }

    private static IEnumerable<string> Lines(string text)
    {
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static string? ParamOf(string code) => code switch
    {
        "invalid_url" => "url",
        "invalid_method" => "method",
        "invalid_request" => "body",
        "duplicate_custom_id" => "custom_id",
        _ => null,
    };
}
