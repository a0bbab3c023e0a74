using System.Globalization;
using Baton.Accounting.Ledger;
using Baton.Providers;

namespace Baton.Core.Tests.Accounting;

/// <summary>The ledger's INSERT of many rows per statement: every value, the order, and one row per attempt id.</summary>
public sealed class LedgerInsertTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private static LedgerEntry Entry(int i) => new()
    {
        Time = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).AddMilliseconds(i),
        AttemptId = $"attempt-{i}",
        Session = i % 3 == 0 ? null : $"session-{i}",
        ApiKey = $"key-{i % 4}",
        // Empty strings stay empty strings, not NULL.
        User = i % 5 == 0 ? "" : $"user-{i}",
        Tags = i % 2 == 0 ? null : "a,b",
        Task = i % 7 == 0 ? "code_generation" : null,
        Tier = i % 7 == 0 ? "fast" : null,
        Project = i % 6 == 0 ? $"project-{i}" : null,
        Model = $"model-é-{i}",
        Deployment = $"provider/upstream-{i}",
        Usage = TokenUsage.Of(100 + i, 10 + i, cached: i % 3, reasoning: i % 2, cacheWrite: i % 4),
        CostUsd = 0.000001234567m * (i + 1),
        Priced = i % 9 != 0,
        LatencyMs = 1.25 * i,
        Cached = i % 10 == 0,
        Fallback = i % 11 == 0,
        Status = i % 13 == 0 ? 499 : 200,
        Estimated = i % 8 == 0,
        Continuation = i % 12 == 0,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(LedgerInsert.MaxRowsPerStatement)]
    [InlineData(LedgerInsert.MaxRowsPerStatement * 2 + 11)]
    public async Task A_batch_keeps_every_value_of_every_row_in_order(int rows)
    {
        var entries = Enumerable.Range(0, rows).Select(Entry).ToList();
        await using (var store = new SqliteLedgerStore(_db.Path))
        {
            await store.WriteAsync(entries, CancellationToken.None);
            // The same statements again, for the next batch.
            await store.WriteAsync([Entry(rows)], CancellationToken.None);
        }

        var read = ReadAll();
        Assert.Equal(rows + 1, read.Count);
        Assert.Equal(entries.Append(Entry(rows)).Select(Describe), read);
    }

    [Fact]
    public async Task Rows_already_written_or_repeated_within_one_statement_are_kept_once()
    {
        await using (var store = new SqliteLedgerStore(_db.Path))
        {
            await store.WriteAsync([Entry(3)], CancellationToken.None);
            // Row 3 is in the file already; row 5 comes twice within the same statement; row 40 in two statements.
            List<LedgerEntry> batch = [.. Enumerable.Range(0, 40).Select(Entry), Entry(5), Entry(40), Entry(40)];
            await store.WriteAsync(batch, CancellationToken.None);
        }

        Assert.Equal(41, _db.Scalar("SELECT COUNT(*) FROM ledger"));
        Assert.Equal(41, _db.Scalar("SELECT COUNT(DISTINCT attempt_id) FROM ledger"));
        // The first row written for an attempt is the one kept, and rows keep the order they were given in.
        Assert.Equal("attempt-3", _db.Text("SELECT attempt_id FROM ledger ORDER BY id LIMIT 1"));
        Assert.Equal("attempt-40", _db.Text("SELECT attempt_id FROM ledger ORDER BY id DESC LIMIT 1"));
    }

    /// <summary>Every stored column of a row, as one string.</summary>
    private static string Describe(LedgerEntry e) => string.Join('|', e.Time.ToUnixTimeMilliseconds(), e.Session ?? "NULL", e.ApiKey ?? "NULL",
        e.User ?? "NULL", e.Tags ?? "NULL", e.Task ?? "NULL", e.Tier ?? "NULL", e.Model, e.Deployment, e.Usage.PromptTokens,
        e.Usage.CachedPromptTokens, e.Usage.CompletionTokens, e.Usage.ReasoningTokens, LedgerDatabase.ToPico(e.CostUsd), e.Priced ? 1 : 0,
        e.LatencyMs.ToString(CultureInfo.InvariantCulture), e.Cached ? 1 : 0, e.Fallback ? 1 : 0, e.Status, e.Estimated ? 1 : 0,
        e.Usage.CacheWritePromptTokens, e.Continuation ? 1 : 0, e.Project ?? "NULL", e.AttemptId ?? "NULL");

    private List<string> ReadAll()
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT time_ms, session, api_key, user, tags, task, tier, model, deployment, prompt_tokens, cached_tokens, completion_tokens,
                reasoning_tokens, cost_picousd, priced, latency_ms, cached, fallback, status, estimated, cache_write_tokens, continuation,
                project, attempt_id
            FROM ledger ORDER BY id
            """;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!;
            }
            rows.Add(string.Join('|', values));
        }
        return rows;
    }
}
