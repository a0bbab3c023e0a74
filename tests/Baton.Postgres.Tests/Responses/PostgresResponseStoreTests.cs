using Baton.Core.Tests.Responses;
using Baton.Postgres.Responses;
using Baton.Postgres.Tests.TestSupport;
using Baton.Responses;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Postgres.Tests.Responses;

/// <summary>The stored-responses contract run against PostgreSQL, each test on a database of its own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresResponseStoreTests(PostgresServer server) : ResponseStoreContractTests, IAsyncLifetime
{
    private readonly List<PostgresDatabase> _databases = [];
    private string _connection = "";

    protected override IResponseStore CreateStore()
    {
        var database = new PostgresDatabase(_connection, NullLogger<PostgresDatabase>.Instance);
        _databases.Add(database);
        return new PostgresResponseStore(database);
    }

    public async Task InitializeAsync() => _connection = await server.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
