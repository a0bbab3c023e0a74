using System.Text;
using System.Text.Json;

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
/// <para>The lines are answered by <see cref="BatchExecutor"/>: this runner reads the input, leaves out what the output
/// holds already, and appends each result line as it finishes.</para>
/// </summary>
public sealed class BatchFileRunner(BatchExecutor executor)
{
    /// <summary>
    /// Answers the lines of <paramref name="inputPath"/> not yet in <paramref name="outputPath"/>, appending one result
    /// line to the output (created when missing) as each finishes.
    /// </summary>
    /// <param name="inputPath">The JSONL input file.</param>
    /// <param name="outputPath">The JSONL output file; lines already there are kept and their <c>custom_id</c>s skipped.</param>
    /// <param name="report">Called with the progress as lines finish (from several threads, one call at a time per line); null for none.</param>
    /// <param name="cancellationToken">Stops the run; every line written by then is whole, and a later run carries on from there.</param>
    /// <returns>The final progress, and the input lines that were not requests (reported, skipped, not counted as failed).</returns>
    /// <exception cref="OperationCanceledException">The run was stopped.</exception>
    public async Task<(BatchFileProgress Progress, IReadOnlyList<BatchFileProblem> Problems)> RunAsync(
        string inputPath, string outputPath, Action<BatchFileProgress>? report, CancellationToken cancellationToken)
    {
        var finished = ReadFinished(outputPath);
        var (items, unreadable) = await BatchJobInput.ReadFileAsync(inputPath, cancellationToken).ConfigureAwait(false);
        var problems = unreadable.Select(p => new BatchFileProblem(p.Line, p.Problem.Message)).ToList();
        var pending = items.Where(item => !finished.Contains(item.CustomId)).Select(item => new BatchEntry(item.CustomId, item.Request, item.Refusal)).ToList();
        var skipped = items.Count - pending.Count;

        await using var output = new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var sink = new OutputFile(output, items.Count, skipped, report);
        // Stopped or not, every line written so far is whole; a re-run carries on from there.
        var run = await executor.RunAsync(pending, sink, cancellationToken).ConfigureAwait(false);
        return (sink.Progress(run.Progress), problems);
    }

    /// <summary>Appends each result line to the output file as it finishes, and reports progress counting the lines skipped.</summary>
    private sealed class OutputFile(FileStream output, int total, int skipped, Action<BatchFileProgress>? report) : BatchSink<byte[]>, IDisposable
    {
        private readonly SemaphoreSlim _writeGate = new(1, 1);

        public override byte[] Shape(BatchAnswer answer) => BatchLine.Result(answer).Line;

        public override async ValueTask StoreAsync(BatchAnswer answer, byte[] line)
        {
            // The whole line is written and flushed before another may start, and a stop does not interrupt it:
            // lines are never interleaved, never half written.
            await _writeGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await output.WriteAsync(line, CancellationToken.None).ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }
        }

        public override void Report(BatchProgress progress) => report?.Invoke(Progress(progress));

        public BatchFileProgress Progress(BatchProgress run) =>
            new(total, skipped + run.Done, run.Failed, run.CacheHits, skipped, run.Tokens, run.CostUsd);

        public void Dispose() => _writeGate.Dispose();
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
