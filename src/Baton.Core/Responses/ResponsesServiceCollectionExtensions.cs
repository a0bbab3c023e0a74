using Baton.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Baton.Responses;

/// <summary>Registers the store of the Responses API front.</summary>
public static class ResponsesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="IResponseStore"/>: SQLite in <c>responses.path</c> (the ledger's file by default), unless
    /// another store is already registered. The file is opened on first use.
    /// </summary>
    public static IServiceCollection AddBatonResponses(this IServiceCollection services)
    {
        services.TryAddSingleton<IResponseStore>(sp =>
        {
            var options = sp.GetRequiredService<BatonOptions>();
            return new SqliteResponseStore(options.Responses.DatabasePath(options));
        });
        return services;
    }
}
