using Baton.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Baton.Auth;

/// <summary>Registers caller keys.</summary>
public static class AuthServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="KeyLimiter"/> the engine applies to virtual keys and, when <c>auth.masterKeyEnv</c>
    /// is set, the <see cref="KeyRing"/> with the master key read from the environment and the key store
    /// (SQLite unless an <see cref="IKeyStore"/> is already registered).
    /// </summary>
    public static IServiceCollection AddBatonAuth(this IServiceCollection services, BatonOptions options, Func<string, string?> environment)
    {
        services.AddSingleton(sp => new KeyLimiter(sp.GetRequiredService<TimeProvider>(), sp.GetService<RateLimiting.IRateLimitStore>(),
            sp.GetService<Admission.IAdmissionStore>()));
        if (!options.Auth.Enabled)
        {
            return services;
        }
        // Validated at start-up: the variable is set.
        var masterKey = environment(options.Auth.MasterKeyEnv!)!.Trim();
        var path = options.Auth.DatabasePath(options);
        services.TryAddSingleton<IKeyStore>(_ => new SqliteKeyStore(path));
        services.AddSingleton(sp => new KeyRing(sp.GetRequiredService<IKeyStore>(), masterKey, sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IKeyChangeFeed>()));
        return services;
    }
}
