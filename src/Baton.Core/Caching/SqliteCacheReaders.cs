using System.Collections.Concurrent;
using Baton.Providers;
using Microsoft.Data.Sqlite;

namespace Baton.Caching;

/// <summary>
/// Read connections to the cache file, each with its lookup prepared once. In WAL mode readers neither wait for
/// the writer nor for each other, so concurrent lookups each take an idle connection (or open one) instead of
/// queueing behind a lock.
/// </summary>
internal sealed class SqliteCacheReaders(string path) : IDisposable
{
    private readonly ConcurrentBag<Reader> _idle = [];
    private readonly int _maxIdle = Math.Max(4, Environment.ProcessorCount * 2);
    private int _disposed;

    /// <summary>The stored answer under <paramref name="key"/> that has not expired by <paramref name="nowMs"/>.</summary>
    public CachedAnswer? Find(string key, long nowMs)
    {
        var reader = _idle.TryTake(out var idle) ? idle : new Reader(path);
        CachedAnswer? found;
        try
        {
            found = reader.Find(key, nowMs);
        }
        catch
        {
            // A connection that failed is not reused: the next lookup opens a fresh one.
            reader.Dispose();
            throw;
        }
        if (Volatile.Read(ref _disposed) != 0 || _idle.Count >= _maxIdle)
        {
            reader.Dispose();
        }
        else
        {
            _idle.Add(reader);
        }
        return found;
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        while (_idle.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private sealed class Reader : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _select;

        public Reader(string path)
        {
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWrite,
                Pooling = false,
                DefaultTimeout = 5,
            }.ToString());
            try
            {
                _connection.Open();
                using (var setup = _connection.CreateCommand())
                {
                    // A lookup may wait briefly for a checkpoint, never long: past that it is a miss (the caller logs it).
                    setup.CommandText = "PRAGMA busy_timeout=1000; PRAGMA query_only=1;";
                    setup.ExecuteNonQuery();
                }
                _select = _connection.CreateCommand();
                _select.CommandText = """
                    SELECT model, deployment, body, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, created_ms, expires_ms
                    FROM cache_entries WHERE key = $key AND expires_ms > $now
                    """;
                _select.Parameters.Add(new SqliteParameter { ParameterName = "$key" });
                _select.Parameters.Add(new SqliteParameter { ParameterName = "$now" });
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
        }

        public CachedAnswer? Find(string key, long nowMs)
        {
            _select.Parameters[0].Value = key;
            _select.Parameters[1].Value = nowMs;
            using var row = _select.ExecuteReader();
            if (!row.Read())
            {
                return null;
            }
            return new CachedAnswer(
                key,
                row.GetString(0),
                row.GetString(1),
                row.GetFieldValue<byte[]>(2),
                TokenUsage.Of(row.GetInt32(3), row.GetInt32(4), row.GetInt32(5), row.GetInt32(6)),
                DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
                DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)));
        }

        public void Dispose()
        {
            _select.Dispose();
            _connection.Dispose();
        }
    }
}
