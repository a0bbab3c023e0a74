using System.Data;
using Npgsql;

namespace Baton.Postgres;

/// <summary>
/// The first column of a command's first row, read without a synchronous read. Npgsql's <c>ExecuteScalarAsync</c>
/// reads its value sequentially, and a value larger than the connection's read buffer (a file chunk, a long text)
/// is then read from the socket synchronously. On a socket thread (continuations run there with inline socket
/// completions) that read waits for the very thread it blocks: every socket that thread serves stalls until the
/// command times out. A reader buffers its whole row asynchronously in <c>ReadAsync</c> instead.
/// </summary>
internal static class BufferedScalar
{
    /// <summary>The value of the first column of the first row; null when there is no row or the value is SQL NULL.</summary>
    public static async Task<object?> ExecuteBufferedScalarAsync(this NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0) ? reader.GetValue(0) : null;
    }
}
