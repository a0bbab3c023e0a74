using Microsoft.Data.Sqlite;

namespace Baton.Core.Tests.Accounting;

/// <summary>A SQLite file in a fresh temporary directory, deleted (with its WAL files) afterwards.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-ledger-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "baton.db");

    /// <summary>Opens the file as another process would: no pooling, read-write.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Path};Pooling=False");
        connection.Open();
        return connection;
    }

    public long Scalar(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Text(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A connection still closing; the temp directory is cleaned by the OS eventually.
        }
    }
}
