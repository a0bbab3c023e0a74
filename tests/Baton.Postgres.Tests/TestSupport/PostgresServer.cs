using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Baton.Postgres.Tests.TestSupport;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests: <c>initdb</c> of the newest version installed under
/// /usr/lib/postgresql, in a temporary directory, started with <c>pg_ctl</c> on a free 127.0.0.1 port and removed
/// afterwards. PostgreSQL refuses to run as root, so as root both run as the <c>postgres</c> user in a directory it owns.
/// Each test class takes a database of its own (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string InstallRoot = "/usr/lib/postgresql";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-pg-").FullName;
    private string _bin = "";
    private int _databases;

    public int Port { get; private set; }

    /// <summary>The connection string of the cluster's <c>postgres</c> database, as its superuser.</summary>
    public string AdminConnection => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    private string DataDirectory => Path.Combine(_directory, "data");

    public async Task InitializeAsync()
    {
        _bin = NewestBin();
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _directory], asPostgres: false);
        }
        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        Port = FreePort();
        var settings = $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300";
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-o", settings, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "start"]);
    }

    /// <summary>A new, empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"baton_test_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..40];
        await using var connection = new NpgsqlConnection(AdminConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    public async Task DisposeAsync()
    {
        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string NewestBin()
    {
        var versions = Directory.Exists(InstallRoot)
            ? Directory.GetDirectories(InstallRoot).Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        return versions.Count > 0
            ? Path.Combine(versions[0], "bin")
            : throw new InvalidOperationException($"PostgreSQL is not installed (no {InstallRoot}/*/bin/initdb); install Debian's postgresql package.");
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo(asPostgres && IsRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (asPostgres && IsRoot)
        {
            foreach (var arg in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(arg);
            }
        }
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The test classes that share one cluster (each in a database of its own).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
