using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Baton.Auth;
using Baton.Batching.Jobs;
using Baton.Configuration;
using Baton.Postgres.Auth;
using Baton.Postgres.Batches;
using Baton.Postgres.Budgets;
using Baton.Postgres.Ledger;
using Baton.Postgres.Responses;
using Baton.Responses;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Postgres;

/// <summary>Registers Baton's PostgreSQL stores.</summary>
public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// When <c>postgres.connection</c> is set, keeps virtual keys (<see cref="IKeyStore"/>), the cost ledger
    /// (<see cref="ILedgerStore"/>), budget counters (<see cref="IBudgetStore"/>), the Batches API's files and batches
    /// (<see cref="IBatchJobStore"/>) and the Responses API's stored responses (<see cref="IResponseStore"/>) in PostgreSQL instead of the SQLite
    /// file, and migrates the database's schema when the host starts (a gateway that cannot reach its database fails to
    /// start, saying so). Call it before <c>AddBaton</c>: keys and the ledger are taken from PostgreSQL either way, but
    /// budgets only when no budget store is registered yet (a shared Redis store registered first keeps them). Without
    /// the setting it registers nothing.
    /// </summary>
    public static IServiceCollection AddBatonPostgres(this IServiceCollection services, BatonOptions options)
    {
        if (!options.Postgres.Enabled)
        {
            return services;
        }
        var connection = options.Postgres.Connection!;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new PostgresDatabase(connection, sp.GetRequiredService<ILogger<PostgresDatabase>>()));
        services.AddSingleton(sp => new PostgresKeyStore(sp.GetRequiredService<PostgresDatabase>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PostgresKeyStore>>()));
        // Replaces the SQLite key store whichever was registered first.
        services.RemoveAll<IKeyStore>();
        services.AddSingleton<IKeyStore>(sp => sp.GetRequiredService<PostgresKeyStore>());
        services.RemoveAll<ILedgerStore>();
        services.AddSingleton<ILedgerStore>(sp => new PostgresLedgerStore(sp.GetRequiredService<PostgresDatabase>()));
        services.TryAddSingleton<IBudgetStore>(sp => new PostgresBudgetStore(sp.GetRequiredService<PostgresDatabase>()));
        // Files and batches every gateway sees: a batch survives the gateway that started it.
        services.RemoveAll<IBatchJobStore>();
        services.AddSingleton<IBatchJobStore>(sp => new PostgresBatchJobStore(sp.GetRequiredService<PostgresDatabase>()));
        // Stored responses every gateway can continue; AddBatonResponses registers SQLite only when none is registered.
        services.RemoveAll<IResponseStore>();
        services.AddSingleton<IResponseStore>(sp => new PostgresResponseStore(sp.GetRequiredService<PostgresDatabase>()));
        services.AddHostedService<PostgresStartup>();
        return services;
    }

    /// <summary>Migrates the schema before the host serves, so that a database that is unreachable or too new stops the start.</summary>
    private sealed class PostgresStartup(PostgresDatabase database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => database.EnsureMigratedAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
