using Baton.Accounting;
using Baton.Auth;
using Baton.Batching;
using Baton.Caching;
using Baton.Client;
using Baton.Configuration;
using Baton.Engine;
using Baton.Providers;
using Baton.RateLimiting;
using Baton.Resilience;
using Baton.Routing;
using Baton.Telemetry;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Baton.Hosting;

/// <summary>Registers Baton in a service collection.</summary>
public static class BatonServiceCollectionExtensions
{
    /// <summary>
    /// Registers Baton from configuration: the <c>Baton</c> section if there is one, otherwise the root
    /// (the layout of <c>baton.json</c>). The configuration is validated now; problems throw a
    /// <see cref="BatonConfigurationException"/> naming every bad key.
    /// </summary>
    public static IServiceCollection AddBaton(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(BatonOptions.SectionName);
        var source = section.GetChildren().Any() ? section : configuration;
        return services.AddBaton(BatonConfigurationLoader.Bind(source), reloadFrom: source);
    }

    /// <summary>Registers Baton with options built in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="options">Baton's configuration.</param>
    /// <param name="environment">Where keys named by <c>apiKeyEnv</c> are read; the process environment by default.</param>
    /// <param name="reloadFrom">The configuration the options came from: task routing follows its changes.</param>
    public static IServiceCollection AddBaton(
        this IServiceCollection services, BatonOptions options, Func<string, string?>? environment = null, IConfiguration? reloadFrom = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        BatonOptionsValidator.ThrowIfInvalid(options, environment);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ILogger<>), typeof(Logger<>)));
        services.AddSingleton(options);
        services.AddSingleton<SecretRedactor>();
        services.AddSingleton(sp => new ProviderFactory(
            new HttpMessageInvoker(ProviderHttpHandlerFactory.Create()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<SecretRedactor>(),
            environment,
            sp.GetServices<ChatProviderType>()));
        services.TryAddSingleton<IRateLimitStore>(sp => new InMemoryRateLimitStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBreakerStateStore>(sp => new InMemoryBreakerStateStore(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ModelCatalog(options, sp.GetRequiredService<ProviderFactory>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IRateLimitStore>(), sp.GetRequiredService<IBreakerStateStore>(), sp.GetService<Admission.IAdmissionStore>()));
        services.AddSingleton(sp => new TaskRouter(options, reloadFrom, sp.GetRequiredService<ILogger<TaskRouter>>()));
        if (!string.Equals(options.Cache.Mode ?? CacheModes.Off, CacheModes.Off, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<ICacheStore>(sp => CacheStores.Create(options.Cache, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>()));
            services.AddSingleton(sp => new ResponseCache(sp.GetRequiredService<ICacheStore>(), options.Cache, sp.GetRequiredService<TimeProvider>()));
        }
        services.AddBatonAccounting(options, reloadFrom);
        services.AddBatonAuth(options, environment);
        services.AddMetrics();
        services.TryAddSingleton(sp => new BatonTelemetry(options.Observability, sp.GetService<IMeterFactory>(), sp.GetRequiredService<ModelCatalog>(),
            sp.GetService<CostAccountant>()?.Ledger, sp.GetService<ILogger<BatonTelemetry>>()));
        services.AddSingleton<BatonEngine>();
        // One executor runs the items of /batch, `baton batch` and the Batches API, batch.maxConcurrency at a time per batch.
        services.AddSingleton(sp => new BatchExecutor(sp.GetRequiredService<BatonEngine>(), sp.GetRequiredService<TimeProvider>(),
            options.Batch.MaxConcurrency ?? BatchExecutor.DefaultMaxConcurrency, sp.GetService<ILogger<BatchExecutor>>()));
        services.AddSingleton<BatchProcessor>();
        services.AddSingleton(sp => new HealthReport(sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<TimeProvider>()));
        // Each face defaults to the first model of its kind: an embeddings model cannot answer a chat, nor the reverse.
        var chatModel = options.Models.FirstOrDefault(m => ModelKinds.Of(m.Value.Kind) == ModelKinds.Chat).Key ?? options.Models.Keys.First();
        var embeddingsModel = options.Models.FirstOrDefault(m => ModelKinds.Of(m.Value.Kind) == ModelKinds.Embeddings).Key;
        services.AddSingleton(sp => new BatonChatClient(
            sp.GetRequiredService<BatonEngine>(),
            chatModel,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<BatonChatClient>());
        services.AddSingleton(sp => new BatonEmbeddingGenerator(sp.GetRequiredService<BatonEngine>(), embeddingsModel, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<BatonEmbeddingGenerator>());
        return services;
    }
}
