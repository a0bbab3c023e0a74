using System.Text.Json;

namespace Baton.Accounting.Ledger;

/// <summary>
/// Where the <see cref="LedgerWriter"/> puts rows once its in-memory backlog is full (<c>ledger.maxBacklog</c>): an
/// append-only file of JSON lines next to the ledger, which the writer drains when it has caught up. Spilling costs a
/// request one small file write instead of a wait, and keeps the process's memory bounded however long the store
/// lags. Two files take turns: rows are appended to <c>{ledger}.overflow</c>; the writer renames it to
/// <c>{ledger}.overflow.draining</c> and reads that while new rows start a fresh file. Each line is handed to the
/// operating system as it is written, so a killed process keeps its spilled rows: the next writer on the same ledger
/// drains both files first (a row committed already is kept once, by its attempt id).
/// </summary>
/// <remarks>
/// <see cref="TryAppend"/> is called by any thread; <see cref="Read"/>, <see cref="Committed"/> and <see cref="Rewind"/>
/// by the writer's single loop only.
/// </remarks>
internal sealed class LedgerOverflow : IDisposable
{
    private static readonly JsonSerializerOptions Json = new();

    private readonly string _drainingPath;
    private readonly Lock _lock = new();
    private FileStream? _append;
    private long _appended;
    private bool _closed;
    private StreamReader? _draining;
    private long _drainingRows;

    public LedgerOverflow(string path)
    {
        Path = path;
        _drainingPath = path + ".draining";
        // Left by a process that stopped before draining them: rows to write before anything else.
        _drainingRows = CountLines(_drainingPath);
        _appended = CountLines(path);
    }

    /// <summary>The file rows are appended to.</summary>
    public string Path { get; }

    /// <summary>Rows spilled and not yet committed to the store.</summary>
    public long Pending
    {
        get
        {
            lock (_lock)
            {
                return _appended + _drainingRows;
            }
        }
    }

    /// <summary>
    /// Appends a row; false once the writer has closed the file (shutdown). <paramref name="first"/> tells whether the
    /// file had no pending row before: the writer may be asleep and must be woken to drain it.
    /// </summary>
    /// <exception cref="IOException">The file could not be written (disk full, permissions).</exception>
    public bool TryAppend(LedgerEntry entry, out bool first)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, Json);
        lock (_lock)
        {
            first = false;
            if (_closed)
            {
                return false;
            }
            _append ??= OpenAppend(Path);
            // One write per line (unbuffered stream): the operating system has the row when the call returns, so a
            // killed process keeps it; a power cut tears at most the line being written.
            var record = new byte[line.Length + 1];
            line.CopyTo(record, 0);
            record[^1] = (byte)'\n';
            _append.Write(record);
            first = _appended + _drainingRows == 0;
            _appended++;
            return true;
        }
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> rows into <paramref name="rows"/>; how many lines it consumed (a line torn by a
    /// crash is consumed and left out). 0 when nothing is pending.
    /// </summary>
    public int Read(List<LedgerEntry> rows, int max)
    {
        // Twice at most: a draining file left empty (a process stopped right after renaming it) gives way to the appended rows.
        for (var turn = 0; turn < 2; turn++)
        {
            if (_draining is null && !OpenDraining())
            {
                return 0;
            }
            var lines = 0;
            while (lines < max && _draining!.ReadLine() is { } line)
            {
                lines++;
                if (Parse(line) is { } entry)
                {
                    rows.Add(entry);
                }
            }
            if (lines > 0)
            {
                return lines;
            }
            Committed(0);
        }
        return 0;
    }

    /// <summary>The rows last <see cref="Read"/> are committed: they stop counting, and a drained file is deleted.</summary>
    public void Committed(int lines)
    {
        lock (_lock)
        {
            _drainingRows = Math.Max(0, _drainingRows - lines);
        }
        if (_draining is not null && _draining.EndOfStream)
        {
            _draining.Dispose();
            _draining = null;
            File.Delete(_drainingPath);
            lock (_lock)
            {
                _drainingRows = 0;
            }
        }
    }

    /// <summary>
    /// The rows last <see cref="Read"/> could not be written: the file is read again from its start next time (the rows
    /// it committed already are kept once, by attempt id), so no row is lost to a store that failed for a while.
    /// </summary>
    public void Rewind()
    {
        _draining?.Dispose();
        _draining = null;
        lock (_lock)
        {
            _drainingRows = CountLines(_drainingPath);
        }
    }

    /// <summary>Stops accepting rows; those not drained stay in the files for the next writer on this ledger.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _append?.Dispose();
            _append = null;
        }
        _draining?.Dispose();
        _draining = null;
    }

    /// <summary>Opens the file to drain: the one a previous drain left, else the appended rows, renamed out of the way.</summary>
    private bool OpenDraining()
    {
        if (!File.Exists(_drainingPath))
        {
            lock (_lock)
            {
                if (_appended == 0)
                {
                    return false;
                }
                // Renamed while no append is under way; the next spill starts a new file.
                _append?.Dispose();
                _append = null;
                File.Move(Path, _drainingPath);
                _drainingRows = _appended;
                _appended = 0;
            }
        }
        _draining = new StreamReader(new FileStream(_drainingPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16));
        return true;
    }

    /// <summary>Opens the file for appending; a line a power cut left unfinished is ended first, so the next row stays whole.</summary>
    private static FileStream OpenAppend(string path)
    {
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        try
        {
            if (stream.Length > 0)
            {
                using var check = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                check.Seek(-1, SeekOrigin.End);
                if (check.ReadByte() != '\n')
                {
                    stream.Write("\n"u8);
                }
            }
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static LedgerEntry? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<LedgerEntry>(line, Json);
        }
        catch (JsonException)
        {
            // The last line of a file whose process was killed mid-write: never acknowledged as stored.
            return null;
        }
    }

    private static long CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }
        long lines = 0;
        using var reader = new StreamReader(path);
        while (reader.ReadLine() is not null)
        {
            lines++;
        }
        return lines;
    }
}
