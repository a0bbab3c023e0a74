using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Baton.Accounting.Ledger;

/// <summary>
/// A statement prepared once on a connection and bound through SQLite's own API, for the writers that run one
/// statement thousands of times a second (the ledger's rows, the response cache's answers): Microsoft.Data.Sqlite's
/// parameters allocate a binder, a boxed value and a UTF-8 copy per value per execution, which profiling showed to
/// be a tenth of all the gateway's allocations. Text is bound through one reused buffer. Used by one writer at a
/// time: not thread-safe. It runs inside whatever transaction the connection has open.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private byte[] _text = new byte[256];

    /// <exception cref="SqliteException">SQLite refused the statement.</exception>
    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(_database, sql, out _statement));
    }

    public void Integer(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    public void Real(int index, double value) => Check(raw.sqlite3_bind_double(_statement, index, value));

    /// <summary>Binds a string as UTF-8, or NULL.</summary>
    public void Text(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }
        if (value.Length == 0)
        {
            // An empty span would be bound as a null pointer, which SQLite takes for NULL.
            Check(raw.sqlite3_bind_text(_statement, index, string.Empty));
            return;
        }
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_text.Length < length)
        {
            _text = new byte[Math.Max(length, _text.Length * 2)];
        }
        var written = Encoding.UTF8.GetBytes(value, _text);
        // SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free for the next value at once.
        Check(raw.sqlite3_bind_text(_statement, index, _text.AsSpan(0, written)));
    }

    /// <summary>Binds bytes (copied by SQLite: the caller may reuse them at once).</summary>
    public void Blob(int index, ReadOnlySpan<byte> value) =>
        // An empty span would be bound as a null pointer, which SQLite takes for NULL: an empty blob is a zero-length one.
        Check(value.IsEmpty ? raw.sqlite3_bind_zeroblob(_statement, index, 0) : raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>Runs a statement that returns no rows, then resets it for the next execution; returns the rows it changed.</summary>
    /// <exception cref="SqliteException">SQLite refused the execution (busy, full, a constraint, ...).</exception>
    public int Execute()
    {
        try
        {
            var done = raw.sqlite3_step(_statement);
            if (done != raw.SQLITE_DONE)
            {
                Check(done);
            }
            return raw.sqlite3_changes(_database);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }
}
