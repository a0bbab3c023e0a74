using Baton.Accounting.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Baton.Postgres.Ledger;

/// <summary>
/// The cost ledger in PostgreSQL, where every gateway writes and every gateway reads, so <c>/v1/costs</c> on any of
/// them counts all. The <see cref="LedgerWriter"/> hands it batches, each written as one multi-row INSERT (one array
/// parameter per column, unnested), in one round trip; a row whose attempt id is stored already is left out. Money is
/// integer picodollars, as in the SQLite ledger, so sums are exact.
/// </summary>
internal sealed class PostgresLedgerStore(PostgresDatabase database) : ILedgerStore
{
    private const string Insert = """
        INSERT INTO ledger (time, attempt_id, session, api_key, "user", project, tags, task, tier, model, deployment,
            prompt_tokens, cached_tokens, cache_write_tokens, completion_tokens, reasoning_tokens, cost_picousd, priced,
            latency_ms, cached, fallback, status, estimated, continuation)
        SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],
            $17::bigint[], $18::boolean[], $19::double precision[], $20::boolean[], $21::boolean[], $22::integer[], $23::boolean[],
            $24::boolean[])
        ON CONFLICT (attempt_id) DO NOTHING
        """;

    public string Location => database.Location;

    public async ValueTask WriteAsync(IReadOnlyList<LedgerEntry> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(Insert, connection);
        var parameters = command.Parameters;
        parameters.Add(Column(rows, r => r.Time.UtcDateTime));
        parameters.Add(Column(rows, r => r.AttemptId));
        parameters.Add(Column(rows, r => r.Session));
        parameters.Add(Column(rows, r => r.ApiKey));
        parameters.Add(Column(rows, r => r.User));
        parameters.Add(Column(rows, r => r.Project));
        parameters.Add(Column(rows, r => r.Tags));
        parameters.Add(Column(rows, r => r.Task));
        parameters.Add(Column(rows, r => r.Tier));
        parameters.Add(Column(rows, r => r.Model));
        parameters.Add(Column(rows, r => r.Deployment));
        parameters.Add(Column(rows, r => (long)r.Usage.PromptTokens));
        parameters.Add(Column(rows, r => (long)r.Usage.CachedPromptTokens));
        parameters.Add(Column(rows, r => (long)r.Usage.CacheWritePromptTokens));
        parameters.Add(Column(rows, r => (long)r.Usage.CompletionTokens));
        parameters.Add(Column(rows, r => (long)r.Usage.ReasoningTokens));
        parameters.Add(Column(rows, r => LedgerDatabase.ToPico(r.CostUsd)));
        parameters.Add(Column(rows, r => r.Priced));
        parameters.Add(Column(rows, r => r.LatencyMs));
        parameters.Add(Column(rows, r => r.Cached));
        parameters.Add(Column(rows, r => r.Fallback));
        parameters.Add(Column(rows, r => r.Status));
        parameters.Add(Column(rows, r => r.Estimated));
        parameters.Add(Column(rows, r => r.Continuation));
        // One statement is atomic: the batch is committed whole or not at all.
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlParameter<T[]> Column<T>(IReadOnlyList<LedgerEntry> rows, Func<LedgerEntry, T> value)
    {
        var column = new T[rows.Count];
        for (var i = 0; i < column.Length; i++)
        {
            column[i] = value(rows[i]);
        }
        return new NpgsqlParameter<T[]> { TypedValue = column };
    }

    public async ValueTask<CostReport> QueryAsync(CostQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand { Connection = connection };
        var where = new List<string>();
        void Filter(string? value, Func<string, string> condition)
        {
            if (value is not null)
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
                where.Add(condition("$" + command.Parameters.Count));
            }
        }
        Filter(query.SessionId, p => $"session = {p}");
        Filter(query.ApiKey, p => $"api_key = {p}");
        Filter(query.Model, p => $"model = {p}");
        Filter(query.Key, p => $"api_key = {p}");
        Filter(query.User, p => $"\"user\" = {p}");
        // The same expression as the index ledger_tags; a tag is matched whole, '%' and '_' are plain characters.
        Filter(query.Tag, p => $"string_to_array(tags, ',') @> ARRAY[{p}]");
        void Time(DateTimeOffset? value, string comparison)
        {
            if (value is { } time)
            {
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                where.Add($"time {comparison} ${command.Parameters.Count}");
            }
        }
        Time(query.Since, ">=");
        Time(query.Until, "<");
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        const string Sums = "COALESCE(SUM(cost_picousd), 0)::bigint, COUNT(*) FILTER (WHERE NOT continuation), COUNT(*) FILTER (WHERE NOT cached), " +
                            "COUNT(*) FILTER (WHERE cached), COALESCE(SUM(prompt_tokens) FILTER (WHERE NOT cached), 0)::bigint, " +
                            "COALESCE(SUM(cached_tokens) FILTER (WHERE NOT cached), 0)::bigint, COALESCE(SUM(cache_write_tokens) FILTER (WHERE NOT cached), 0)::bigint, " +
                            "COALESCE(SUM(completion_tokens) FILTER (WHERE NOT cached), 0)::bigint, COALESCE(SUM(reasoning_tokens) FILTER (WHERE NOT cached), 0)::bigint";
        // Ordered as the SQLite ledger orders: by cost, then by key in byte order.
        command.CommandText = $"SELECT * FROM (SELECT {KeyExpression(query.GroupBy)} AS k, {Sums} FROM ledger {filter} GROUP BY 1) g ORDER BY 2 DESC, k COLLATE \"C\"";
        var groups = new List<CostGroup>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                groups.Add(new CostGroup(reader.GetString(0), new CostTotals(
                    LedgerDatabase.FromPico(reader.GetInt64(1)), reader.GetInt64(2), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(8), reader.GetInt64(9))
                {
                    Attempts = reader.GetInt64(3),
                    CacheHits = reader.GetInt64(4),
                    CacheWriteTokens = reader.GetInt64(7),
                }));
            }
        }
        return new CostReport(query, groups.Aggregate(CostTotals.Zero, (sum, g) => sum.Add(g.Totals)), groups);
    }

    private static string KeyExpression(CostGrouping grouping) => grouping switch
    {
        CostGrouping.Model => "model",
        CostGrouping.Tier => $"COALESCE(tier, '{LedgerQuery.None}')",
        CostGrouping.Task => $"COALESCE(task, '{LedgerQuery.None}')",
        CostGrouping.Key => $"COALESCE(api_key, 'user:' || \"user\", '{LedgerQuery.None}')",
        CostGrouping.Day => "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        CostGrouping.Session => $"COALESCE(session, '{LedgerQuery.None}')",
        CostGrouping.Provider => "split_part(deployment, '/', 1)",
        CostGrouping.Deployment => "deployment",
        _ => throw new ArgumentOutOfRangeException(nameof(grouping)),
    };

    public async ValueTask<long> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM ledger WHERE time < $1", connection);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <remarks>The pool belongs to <see cref="PostgresDatabase"/>, disposed by the container.</remarks>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
