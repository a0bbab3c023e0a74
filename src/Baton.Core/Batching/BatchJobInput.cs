using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Baton.Errors;
using Baton.Requests;

namespace Baton.Batching;

/// <summary>
/// One request of a batch input file, by its 1-based line number: its request, or the refusal of its body (the item
/// then fails alone, with that error, and is never sent).
/// </summary>
internal sealed record BatchJobItem(int Line, string CustomId, ChatRequest? Request, BatonException? Refusal = null);

/// <summary>Why a line of a batch input (or a whole batch) failed: OpenAI's <c>errors.data[]</c> item.</summary>
public sealed record BatchJobError(string Code, string Message, string? Param, int? Line);

/// <summary>
/// Reads a batch input file (OpenAI's JSONL, one <c>{"custom_id", "method", "url", "body"}</c> a line) the way
/// OpenAI validates it: every line that is not a request, and every repeated <c>custom_id</c>, is an error naming
/// its line, and any error fails the whole batch. A line whose envelope is right but whose body is refused (an invalid
/// parameter) is an item like the others, refused: it fails alone, as an error line, while the rest are answered.
/// </summary>
internal static class BatchJobInput
{
    /// <summary>
    /// Reads an uploaded input file as it streams in (never whole in memory): UTF-8, a leading byte-order mark
    /// ignored; no request at all is an error too. Read asynchronously: the stream may be a database's socket, and a
    /// synchronous read on a socket thread stalls every socket served by that thread.
    /// </summary>
    public static async Task<(IReadOnlyList<BatchJobItem> Items, IReadOnlyList<BatchJobError> Errors)> ReadAsync(Stream content, CancellationToken cancellationToken)
    {
        var (items, problems) = await ReadAsync(LinesAsync(content, cancellationToken)).ConfigureAwait(false);
        if (items.Count == 0 && problems.Count == 0)
        {
            return (items, [new BatchJobError("empty_file", "The input file has no requests.", null, null)]);
        }
        return (items, problems.Select(p => new BatchJobError(p.Problem.Code, $"Line {p.Line}: {p.Problem.Message}", p.Problem.Param ?? ParamOf(p.Problem.Code), p.Line)).ToList());
    }

    /// <summary>Reads a batch input file by its lines as the file holds them: bytes that are not UTF-8 are a problem of their line.</summary>
    public static async Task<(IReadOnlyList<BatchJobItem> Items, IReadOnlyList<(int Line, BatchLineProblem Problem)> Problems)> ReadFileAsync(
        string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return await ReadAsync(LinesAsync(file, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads input lines, shared by <c>baton batch</c> and the Batches API: each request with its line number, and a
    /// problem for each line that is not a request or repeats an earlier <c>custom_id</c>; blank lines are skipped.
    /// </summary>
    private static async Task<(IReadOnlyList<BatchJobItem> Items, IReadOnlyList<(int Line, BatchLineProblem Problem)> Problems)> ReadAsync(
        IAsyncEnumerable<ReadOnlyMemory<byte>> lines)
    {
        var items = new List<BatchJobItem>();
        var problems = new List<(int Line, BatchLineProblem Problem)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        await foreach (var line in lines.ConfigureAwait(false))
        {
            number++;
            if (IsBlank(line.Span))
            {
                continue;
            }
            var read = BatchLine.TryRead(line, out var customId, out var request, out var problem);
            if (!read && problem!.Refusal is null)
            {
                problems.Add((number, problem));
            }
            else if (!seen.Add(customId!))
            {
                problems.Add((number, new BatchLineProblem("duplicate_custom_id", $"the custom_id '{customId}' appears more than once; each must be unique")));
            }
            else
            {
                items.Add(new BatchJobItem(number, customId!, request, problem?.Refusal));
            }
        }
        return (items, problems);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r\f\v"u8) < 0;

    /// <summary>
    /// The file's lines as bytes, decoded by nobody yet: a line that is not valid UTF-8 is refused by its reader, naming
    /// the string that holds the bytes, rather than silently turned into U+FFFD. The mark is dropped from the first line only.
    /// </summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> LinesAsync(Stream content, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var line = new ArrayBufferWriter<byte>();
        var first = true;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var chunk = buffer.AsMemory(0, read);
            while (chunk.Span.IndexOf((byte)'\n') is var end and >= 0)
            {
                line.Write(chunk.Span[..end]);
                chunk = chunk[(end + 1)..];
                yield return Take(line, ref first);
            }
            line.Write(chunk.Span);
        }
        if (line.WrittenCount > 0)
        {
            yield return Take(line, ref first);
        }
    }

    private static ReadOnlyMemory<byte> Take(ArrayBufferWriter<byte> line, ref bool first)
    {
        var bytes = line.WrittenSpan;
        if (first && bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }
        if (bytes.EndsWith("\r"u8))
        {
            bytes = bytes[..^1];
        }
        first = false;
        var copy = bytes.ToArray();
        line.ResetWrittenCount();
        return copy;
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
