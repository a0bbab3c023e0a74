using System.Text;
using System.Text.Json;
using Baton.Caching;
using Baton.Engine;
using Baton.Errors;
using Baton.Providers.OpenAi;
using Baton.Requests;

namespace Baton.Batching;

/// <summary>Progress of a batch file: lines done, failed, answered from the cache, skipped as already done, tokens.</summary>
public sealed record BatchFileProgress(int Total, int Done, int Failed, int CacheHits, int Skipped, long Tokens);

/// <summary>A line of the input that is not a request, by its 1-based number.</summary>
public sealed record BatchFileProblem(int Line, string Message);

/// <summary>
/// Runs an OpenAI-style batch file: JSONL lines <c>{"custom_id": ..., "body": {chat request}}</c> in, one
/// JSONL result line per request out (<c>{"id", "custom_id", "response": {"status_code", "body"}, "error"}</c>).
/// Re-running skips the lines whose <c>custom_id</c> is already in the output; each result is written as one
/// whole line, so stopping (Ctrl-C) never leaves half a line; an unreadable input line is reported and skipped.
/// </summary>
public sealed class BatchFileRunner(BatonEngine engine, int maxConcurrency = BatchProcessor.DefaultMaxConcurrency)
{
    private int _done;
    private int _failed;
    private int _hits;
    private long _tokens;

    public async Task<(BatchFileProgress Progress, IReadOnlyList<BatchFileProblem> Problems)> RunAsync(
        string inputPath, string outputPath, Action<BatchFileProgress>? report, CancellationToken cancellationToken)
    {
        var finished = ReadFinished(outputPath);
        var problems = new List<BatchFileProblem>();
        var pending = new List<(string CustomId, ChatRequest Request)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(inputPath))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (!TryReadLine(line, out var customId, out var request, out var problem) || !seen.Add(customId!))
            {
                problems.Add(new BatchFileProblem(number, problem ?? $"custom_id '{customId}' appears twice"));
                continue;
            }
            if (!finished.Contains(customId!))
            {
                pending.Add((customId!, request!));
            }
        }
        var skipped = seen.Count - pending.Count;
        BatchFileProgress Snapshot() => new(seen.Count, skipped + _done, _failed, _hits, skipped, Interlocked.Read(ref _tokens));

        await using var output = new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writeGate = new SemaphoreSlim(1, 1);
        report?.Invoke(Snapshot());
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxConcurrency), CancellationToken = cancellationToken },
                async (item, token) =>
                {
                    var result = await AnswerAsync(item.CustomId, item.Request, token).ConfigureAwait(false);
                    await WriteLineAsync(output, writeGate, result).ConfigureAwait(false);
                    Interlocked.Increment(ref _done);
                    report?.Invoke(Snapshot());
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: every line written so far is whole; a re-run carries on from there.
        }
        return (Snapshot(), problems);
    }

    private async Task<byte[]> AnswerAsync(string customId, ChatRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var result = await engine.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _tokens, result.Usage.TotalTokens);
            if (result.Route.Cache == CacheStatus.Hit)
            {
                Interlocked.Increment(ref _hits);
            }
            return ResultLine(customId, 200, result.Body.Span, null);
        }
        catch (BatonException error)
        {
            Interlocked.Increment(ref _failed);
            return ResultLine(customId, error.StatusCode, default, error);
        }
    }

    private static async Task WriteLineAsync(FileStream output, SemaphoreSlim gate, byte[] line)
    {
        // The whole line is written and flushed before another may start, and a stop does not interrupt it:
        // lines are never interleaved, never half written.
        await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await output.WriteAsync(line, CancellationToken.None).ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private static byte[] ResultLine(string customId, int status, ReadOnlySpan<byte> body, BatonException? error)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = OpenAiJson.WriterOptions.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "batch_req_" + Guid.NewGuid().ToString("N"));
            writer.WriteString("custom_id", customId);
            if (error is null)
            {
                writer.WriteStartObject("response");
                writer.WriteNumber("status_code", status);
                writer.WritePropertyName("body");
                writer.WriteRawValue(body, skipInputValidation: true);
                writer.WriteEndObject();
                writer.WriteNull("error");
            }
            else
            {
                writer.WriteNull("response");
                writer.WriteStartObject("error");
                writer.WriteNumber("status_code", status);
                writer.WriteString("code", error.Code ?? error.Type);
                writer.WriteString("message", error.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static bool TryReadLine(string line, out string? customId, out ChatRequest? request, out string? problem)
    {
        customId = null;
        request = null;
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } text)
            {
                problem = "missing custom_id (a non-empty string)";
                return false;
            }
            customId = text;
            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                problem = "missing body (a chat completions request)";
                return false;
            }
            request = ChatRequestParser.Parse(Encoding.UTF8.GetBytes(body.GetRawText()));
            if (request.Stream)
            {
                problem = "stream is not supported in a batch file";
                return false;
            }
            return true;
        }
        catch (JsonException ex)
        {
            problem = "not valid JSON: " + ex.Message;
        }
        catch (BatonException ex)
        {
            problem = ex.Message;
        }
        return false;
    }

    /// <summary>The custom ids already answered; a last line left half written by a crash is cut off.</summary>
    private static HashSet<string> ReadFinished(string outputPath)
    {
        var finished = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(outputPath))
        {
            return finished;
        }
        var bytes = File.ReadAllBytes(outputPath);
        var complete = bytes.AsSpan().LastIndexOf((byte)'\n') + 1;
        if (complete < bytes.Length)
        {
            using var truncate = new FileStream(outputPath, FileMode.Open, FileAccess.Write);
            truncate.SetLength(complete);
        }
        foreach (var line in Encoding.UTF8.GetString(bytes, 0, complete).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.TryGetProperty("custom_id", out var id) && id.GetString() is { } text)
                {
                    finished.Add(text);
                }
            }
            catch (JsonException)
            {
                // A damaged line does not count as done; its request runs again.
            }
        }
        return finished;
    }
}
