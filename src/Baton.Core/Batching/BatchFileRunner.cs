using System.Text;
using System.Text.Json;
using Baton.Engine;

namespace Baton.Batching;

/// <summary>Progress of a batch file: lines done, failed, answered from the cache, skipped as already done, tokens, and what this run cost so far.</summary>
public sealed record BatchFileProgress(int Total, int Done, int Failed, int CacheHits, int Skipped, long Tokens, decimal CostUsd = 0);

/// <summary>A line of the input that is not a request, by its 1-based number.</summary>
public sealed record BatchFileProblem(int Line, string Message);

/// <summary>
/// Runs an OpenAI-style batch file: JSONL lines <c>{"custom_id": ..., "body": {chat request}}</c> in, one
/// JSONL result line per request out (<c>{"id", "custom_id", "response": {"status_code", "body"}, "error"}</c>).
/// Re-running skips the lines whose <c>custom_id</c> is already in the output; each result is written as one
/// whole line, so stopping (Ctrl-C) never leaves half a line; an unreadable input line is reported and skipped, and
/// a line whose body is refused (an invalid parameter) gets its error line like a request that failed.
/// </summary>
public sealed class BatchFileRunner(BatonEngine engine, int maxConcurrency = BatchProcessor.DefaultMaxConcurrency)
{
    private int _done;
    private int _failed;
    private int _hits;
    private long _tokens;
    private long _costPicoUsd;

    public async Task<(BatchFileProgress Progress, IReadOnlyList<BatchFileProblem> Problems)> RunAsync(
        string inputPath, string outputPath, Action<BatchFileProgress>? report, CancellationToken cancellationToken)
    {
        var finished = ReadFinished(outputPath);
        var (items, unreadable) = BatchJobInput.Read(File.ReadLines(inputPath));
        var problems = unreadable.Select(p => new BatchFileProblem(p.Line, p.Problem.Message)).ToList();
        var pending = items.Where(item => !finished.Contains(item.CustomId)).ToList();
        var skipped = items.Count - pending.Count;
        BatchFileProgress Snapshot() => new(items.Count, skipped + _done, _failed, _hits, skipped, Interlocked.Read(ref _tokens),
            Accounting.Ledger.LedgerDatabase.FromPico(Interlocked.Read(ref _costPicoUsd)));

        await using var output = new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writeGate = new SemaphoreSlim(1, 1);
        report?.Invoke(Snapshot());
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxConcurrency), CancellationToken = cancellationToken },
                async (item, token) =>
                {
                    var result = await AnswerAsync(item, token).ConfigureAwait(false);
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

    private async Task<byte[]> AnswerAsync(BatchJobItem item, CancellationToken cancellationToken)
    {
        // A line whose body is refused is answered with its error line, without asking anything.
        var result = item.Refusal is { } refusal
            ? BatchLine.Refused(item.CustomId, refusal)
            : await BatchLine.AnswerAsync(engine, item.CustomId, item.Request!, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _tokens, result.Tokens);
        Interlocked.Add(ref _costPicoUsd, Accounting.Ledger.LedgerDatabase.ToPico(result.CostUsd));
        if (result.CacheHit)
        {
            Interlocked.Increment(ref _hits);
        }
        if (result.Failed)
        {
            Interlocked.Increment(ref _failed);
        }
        return result.Line;
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
