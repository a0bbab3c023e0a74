namespace Baton.Configuration;

/// <summary>
/// Checks a configuration before anything starts, and reports every problem at once with the key path
/// at fault, so that a typo is a clear message at start-up rather than a failure on the first request.
/// </summary>
public static class BatonOptionsValidator
{
    /// <summary>
    /// Every problem of <paramref name="options"/>, each a message starting with the key path at fault; empty when the
    /// configuration is usable. Checks types, URLs, references between sections, numeric ranges and that each provider's
    /// key variable is set.
    /// </summary>
    /// <param name="options">The configuration to check; it is not changed.</param>
    /// <param name="environment">Reads an environment variable by name (the process environment, or a test's), to check that provider keys are present; the values are never put in a message.</param>
    public static IReadOnlyList<string> Validate(BatonOptions options, Func<string, string?> environment)
    {
        var errors = new List<string>();
        foreach (var (name, provider) in options.Providers)
        {
            ValidateProvider($"providers.{name}", provider, errors);
        }

        var providersInUse = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (options.Models.Count == 0)
        {
            errors.Add("models: no model is configured; add at least one under 'models'.");
        }
        foreach (var (name, model) in options.Models)
        {
            var path = $"models.{name}";
            if (model.Deployments.Count == 0)
            {
                errors.Add($"{path}.deployments: a model needs at least one deployment ({{ \"provider\": ..., \"model\": ... }}).");
            }
            for (var i = 0; i < model.Deployments.Count; i++)
            {
                var deployment = model.Deployments[i];
                var deploymentPath = $"{path}.deployments[{i}]";
                if (string.IsNullOrWhiteSpace(deployment.Provider))
                {
                    errors.Add($"{deploymentPath}.provider: missing; name one of the configured providers.");
                }
                else if (!options.Providers.ContainsKey(deployment.Provider))
                {
                    errors.Add($"{deploymentPath}.provider: '{deployment.Provider}' is not a configured provider (configured: {Known(options.Providers.Keys)}).");
                }
                else
                {
                    providersInUse.TryAdd(deployment.Provider, name);
                }
                if (string.IsNullOrWhiteSpace(deployment.Model))
                {
                    errors.Add($"{deploymentPath}.model: missing; give the upstream model id.");
                }
                ValidateParameters(deploymentPath, deployment.Temperature, deployment.TopP, deployment.MaxTokens, errors);
                ValidateRateLimits($"{deploymentPath}.rateLimits", deployment.RateLimits, errors);
            }
            ValidateFallbacks(path, name, model, options, errors);
            ValidateKind(path, model, options, errors);
            ValidateBalancing(path, model, errors);
            ValidateResilience($"{path}.resilience", model.Resilience, errors);
        }

        foreach (var (name, file) in options.Pipelines)
        {
            // The files themselves are read and checked by Baton.Pipelines (PipelineCatalog.Validate).
            if (string.IsNullOrWhiteSpace(file))
            {
                errors.Add($"pipelines.{name}: give the pipeline's file (JSON or YAML).");
            }
        }

        foreach (var (providerName, modelName) in providersInUse)
        {
            var provider = options.Providers[providerName];
            // A disabled provider is never called, so its key need not be set.
            if (!provider.Enabled || !ProviderTypes.IsKnown(provider.Type) || provider.ApiKey is not null)
            {
                continue;
            }
            var path = $"providers.{providerName}.apiKeyEnv";
            if (string.IsNullOrWhiteSpace(provider.ApiKeyEnv))
            {
                if (ProviderTypes.KeyOptional(provider.Type!, provider.BaseUrl))
                {
                    continue;
                }
                errors.Add($"{path}: missing; name the environment variable that holds the key for provider '{providerName}' (used by model '{modelName}').");
            }
            else if (string.IsNullOrEmpty(environment(provider.ApiKeyEnv)))
            {
                errors.Add($"{path}: the environment variable '{provider.ApiKeyEnv}' is not set (provider '{providerName}' is used by model '{modelName}'). Set it, or put it in a .env file in the working directory.");
            }
        }

        foreach (var (name, provider) in options.Providers)
        {
            ValidateResilience($"providers.{name}.resilience", provider.Resilience, errors);
            ValidateRateLimits($"providers.{name}.rateLimits", provider.RateLimits, errors);
        }
        ValidateResilience("resilience", options.Resilience, errors);
        ValidateCache(options, errors);
        ValidateRedis(options, errors);
        AccountingValidator.Validate(options, errors);
        ValidateAuth(options.Auth, environment, errors);
        errors.AddRange(Routing.TaskRoutingTable.Build(options).Validate(options.Models.Keys));
        ValidateParameters("defaults", options.Defaults.Temperature, options.Defaults.TopP, options.Defaults.MaxTokens, errors);
        if (options.Defaults.TimeoutSeconds <= 0)
        {
            errors.Add("defaults.timeoutSeconds: must be greater than 0.");
        }
        if (options.Gateway.MaxRequestBodyBytes < 1024)
        {
            errors.Add("gateway.maxRequestBodyBytes: must be at least 1024.");
        }
        ValidateGatewayOrigins(options.Gateway, errors);
        ValidateGatewayTls(options.Gateway.Tls, environment, errors);
        if (!(options.Responses.RetentionDays > 0 && options.Responses.RetentionDays <= ResponsesOptions.MaxRetentionDays))
        {
            errors.Add($"responses.retentionDays: must be greater than 0 and at most {ResponsesOptions.MaxRetentionDays}.");
        }
        return errors;
    }

    // The files themselves are read when the gateway starts (a bad one is named then); here, what is missing.
    private static void ValidateGatewayTls(GatewayTlsOptions tls, Func<string, string?> environment, List<string> errors)
    {
        if (!(tls.ReloadSeconds == 0 || tls.ReloadSeconds is >= 1 and <= GatewayTlsOptions.MaxReloadSeconds))
        {
            errors.Add($"gateway.tls.reloadSeconds: must be 0 (read the certificate only at start) or from 1 to {GatewayTlsOptions.MaxReloadSeconds} seconds.");
        }
        if (string.IsNullOrWhiteSpace(tls.CertificatePath))
        {
            if (!string.IsNullOrWhiteSpace(tls.KeyPath) || !string.IsNullOrWhiteSpace(tls.PasswordEnv))
            {
                errors.Add("gateway.tls: keyPath and passwordEnv need certificatePath (the certificate file).");
            }
            return;
        }
        if (!string.IsNullOrWhiteSpace(tls.PasswordEnv) && string.IsNullOrEmpty(environment(tls.PasswordEnv)))
        {
            errors.Add($"gateway.tls.passwordEnv: the environment variable {tls.PasswordEnv} is not set.");
        }
    }

    private static void ValidateAuth(AuthOptions auth, Func<string, string?> environment, List<string> errors)
    {
        if (auth.MasterKeyEnv is null)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(auth.MasterKeyEnv))
        {
            errors.Add("auth.masterKeyEnv: empty; name the environment variable that holds the master key, or remove the key to serve loopback only.");
            return;
        }
        var master = environment(auth.MasterKeyEnv);
        if (string.IsNullOrWhiteSpace(master))
        {
            errors.Add($"auth.masterKeyEnv: the environment variable '{auth.MasterKeyEnv}' is not set or empty. Set it to a long random secret (e.g. openssl rand -hex 32).");
        }
        else if (master.Trim().Length < AuthOptions.MinimumMasterKeyLength)
        {
            errors.Add($"auth.masterKeyEnv: the key in '{auth.MasterKeyEnv}' is shorter than {AuthOptions.MinimumMasterKeyLength} characters; use a long random secret (e.g. openssl rand -hex 32).");
        }
        if (auth.Path is { } path && (string.IsNullOrWhiteSpace(path) || path.Trim() == ":memory:"))
        {
            errors.Add("auth.path: give a file for the key store (or leave it out to use the ledger's file).");
        }
    }

    private static void ValidateGatewayOrigins(GatewayOptions gateway, List<string> errors)
    {
        for (var i = 0; i < gateway.AllowedHosts.Count; i++)
        {
            var host = gateway.AllowedHosts[i];
            if (host == "*")
            {
                continue;
            }
            // A host as the Host header carries it, less the port: a name, an IPv4 address or a bracketed IPv6 one.
            var bracketed = host.StartsWith('[') && host.EndsWith(']') && host.Length > 2;
            if (string.IsNullOrWhiteSpace(host) || (!bracketed && Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
                || (bracketed && Uri.CheckHostName(host[1..^1]) != UriHostNameType.IPv6))
            {
                errors.Add($"gateway.allowedHosts[{i}]: '{host}' is not a host name; give a name or an address without scheme, port or path (e.g. baton.internal), or \"*\".");
            }
        }
        for (var i = 0; i < gateway.Cors.AllowedOrigins.Count; i++)
        {
            var origin = gateway.Cors.AllowedOrigins[i];
            if (origin == "*")
            {
                continue;
            }
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.AbsolutePath != "/" || origin.EndsWith('/') || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                errors.Add($"gateway.cors.allowedOrigins[{i}]: '{origin}' is not an origin; give scheme, host and optional port only (e.g. https://app.example.com or http://localhost:3000), or \"*\".");
            }
        }
    }

    private static void ValidateJobsDatabase(string? path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add("batch.jobsDatabase: missing; give the SQLite file for batch jobs (default baton-batches.db).");
            return;
        }
        try
        {
            if (Directory.Exists(Path.GetFullPath(path)))
            {
                errors.Add($"batch.jobsDatabase: '{path}' is a directory; give a file path.");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            errors.Add($"batch.jobsDatabase: '{path}' is not a valid path ({ex.Message}).");
        }
    }

    /// <summary>Validates <paramref name="options"/> as <see cref="Validate"/> does, and throws when anything is wrong.</summary>
    /// <exception cref="BatonConfigurationException">The configuration has at least one problem; the exception lists them all.</exception>
    public static void ThrowIfInvalid(BatonOptions options, Func<string, string?> environment)
    {
        var errors = Validate(options, environment);
        if (errors.Count > 0)
        {
            throw new BatonConfigurationException(errors);
        }
    }

    private static void ValidateProvider(string path, ProviderOptions provider, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(provider.Type))
        {
            errors.Add($"{path}.type: missing; expected one of {Known(ProviderTypes.All)}.");
        }
        else if (!ProviderTypes.IsKnown(provider.Type))
        {
            errors.Add($"{path}.type: unknown provider type '{provider.Type}'; expected one of {Known(ProviderTypes.All)}.");
        }
        if (provider.BaseUrl is not null &&
            (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{path}.baseUrl: '{provider.BaseUrl}' is not an absolute http(s) URL.");
        }
        else if (provider.BaseUrl is not null && ProviderTypes.IsKnown(provider.Type) && ProviderTypes.ExplainBaseUrl(provider.Type!, provider.BaseUrl) is { } wrong)
        {
            errors.Add($"{path}.baseUrl: {wrong}");
        }
        if (provider.ApiKey is not null)
        {
            errors.Add($"{path}.apiKey: a literal key is refused, because configuration files end up in source control, backups and logs. " +
                       $"Put the key in an environment variable (or .env) and name that variable in {path}.apiKeyEnv.");
        }
        if (provider.TimeoutSeconds is <= 0)
        {
            errors.Add($"{path}.timeoutSeconds: must be greater than 0.");
        }
        var simulator = provider.Simulator;
        if (simulator.LatencyMs < 0 || simulator.TimeToFirstTokenMs < 0 || simulator.TokensPerSecond < 0 || simulator.AnswerWords < 0)
        {
            errors.Add($"{path}.simulator: latencyMs, timeToFirstTokenMs, tokensPerSecond and answerWords must not be negative.");
        }
    }

    private static void ValidateFallbacks(string path, string name, ModelOptions model, BatonOptions options, List<string> errors)
    {
        for (var i = 0; i < model.Fallbacks.Count; i++)
        {
            var fallback = model.Fallbacks[i];
            if (string.Equals(fallback, name, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.fallbacks[{i}]: a model cannot fall back to itself.");
            }
            else if (!options.Models.ContainsKey(fallback))
            {
                errors.Add($"{path}.fallbacks[{i}]: '{fallback}' is not a configured model (configured: {Known(options.Models.Keys)}).");
            }
        }
        if (model.ContextWindowFallback is { } larger && !options.Models.ContainsKey(larger))
        {
            errors.Add($"{path}.contextWindowFallback: '{larger}' is not a configured model (configured: {Known(options.Models.Keys)}).");
        }
    }

    private static void ValidateRedis(BatonOptions options, List<string> errors)
    {
        var redis = options.Redis;
        if (redis.FailMode is { } mode && !RedisFailModes.All.Contains(mode, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"redis.failMode: unknown mode '{mode}'; expected {Known(RedisFailModes.All)}.");
        }
        if (redis.TimeoutMs is { } timeout && timeout is < 1 or > 10_000)
        {
            errors.Add("redis.timeoutMs: must be between 1 and 10000.");
        }
        if (redis.Prefix is { } prefix && (prefix.Length > 64 || prefix.Any(char.IsWhiteSpace)))
        {
            errors.Add("redis.prefix: must be at most 64 characters, without spaces.");
        }
        if (redis.Connection is { } connection && connection.Length > 0 && string.IsNullOrWhiteSpace(connection))
        {
            errors.Add("redis.connection: must name a Redis server, e.g. 'localhost:6379'.");
        }
    }

    private static void ValidateCache(BatonOptions options, List<string> errors)
    {
        var cache = options.Cache;
        if (cache.Mode is { } mode && !CacheModes.All.Contains(mode, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"cache.mode: unknown mode '{mode}'; expected one of {Known(CacheModes.All)}.");
        }
        if (cache.Store is { } store && !Caching.CacheStores.All.Contains(store, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"cache.store: unknown store '{store}'; expected {Known(Caching.CacheStores.All)}.");
        }
        else if (string.Equals(cache.Store, Caching.CacheStores.Redis, StringComparison.OrdinalIgnoreCase) && !options.Redis.Enabled)
        {
            errors.Add("cache.store: 'redis' needs redis.connection (the Redis the gateway instances share).");
        }
        if (cache.TtlSeconds is { } ttl && !Requests.CacheDirectives.IsValidTtl(ttl))
        {
            errors.Add($"cache.ttlSeconds: must be greater than 0 and at most {Requests.CacheDirectives.MaxTtlSeconds}.");
        }
        if (cache.MaxBytes is < 1024)
        {
            errors.Add("cache.maxBytes: must be at least 1024.");
        }
        if (options.Batch.MaxConcurrency is < 1 or > 1000)
        {
            errors.Add($"batch.maxConcurrency: {options.Batch.MaxConcurrency} is out of range 1 to 1000.");
        }
        ValidateJobsDatabase(options.Batch.JobsDatabase, errors);
        if (options.Batch.MaxUploadBytes is < 1024 or > BatchOptions.MaxMaxUploadBytes)
        {
            errors.Add($"batch.maxUploadBytes: must be 1024 to {BatchOptions.MaxMaxUploadBytes} (512 MiB).");
        }
        if (options.Batch.LeaseSeconds is < 1 or > 3600)
        {
            errors.Add($"batch.leaseSeconds: {options.Batch.LeaseSeconds} is out of range 1 to 3600.");
        }
        foreach (var (name, model) in options.Models)
        {
            if (model.CacheTtlSeconds is { } modelTtl && !Requests.CacheDirectives.IsValidTtl(modelTtl))
            {
                errors.Add($"models.{name}.cacheTtlSeconds: must be greater than 0 and at most {Requests.CacheDirectives.MaxTtlSeconds}.");
            }
        }
    }

    private static void ValidateBalancing(string path, ModelOptions model, List<string> errors)
    {
        if (model.Strategy is { } strategy && !RoutingStrategies.All.Contains(strategy, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{path}.strategy: unknown strategy '{strategy}'; expected one of {Known(RoutingStrategies.All)}.");
        }
        for (var i = 0; i < model.Deployments.Count; i++)
        {
            var deployment = model.Deployments[i];
            if (deployment.Weight is <= 0)
            {
                errors.Add($"{path}.deployments[{i}].weight: must be greater than 0.");
            }
            if (deployment.Price is { } price && (price.Input < 0 || price.CachedInput < 0 || price.Output < 0 || price.CacheWrite < 0))
            {
                errors.Add($"{path}.deployments[{i}].price: prices must not be negative.");
            }
        }
    }

    private static void ValidateResilience(string path, ResilienceOptions? resilience, List<string> errors)
    {
        if (resilience is null)
        {
            return;
        }
        if (resilience.MaxRetries is < 0 or > 20)
        {
            errors.Add($"{path}.maxRetries: {resilience.MaxRetries} is out of range 0 to 20.");
        }
        if (resilience.MaxStreamResumes is < 0 or > 10)
        {
            errors.Add($"{path}.maxStreamResumes: {resilience.MaxStreamResumes} is out of range 0 to 10.");
        }
        foreach (var (key, value) in new (string, double?)[]
        {
            ("baseDelaySeconds", resilience.BaseDelaySeconds), ("maxDelaySeconds", resilience.MaxDelaySeconds),
            ("maxRetryAfterSeconds", resilience.MaxRetryAfterSeconds), ("attemptTimeoutSeconds", resilience.AttemptTimeoutSeconds),
            ("totalTimeoutSeconds", resilience.TotalTimeoutSeconds), ("firstChunkTimeoutSeconds", resilience.FirstChunkTimeoutSeconds),
            ("idleTimeoutSeconds", resilience.IdleTimeoutSeconds),
            ("circuitBreaker.samplingDurationSeconds", resilience.CircuitBreaker.SamplingDurationSeconds),
            ("circuitBreaker.breakDurationSeconds", resilience.CircuitBreaker.BreakDurationSeconds),
        })
        {
            if (value is <= 0)
            {
                errors.Add($"{path}.{key}: must be greater than 0.");
            }
        }
        if (resilience.CircuitBreaker.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"{path}.circuitBreaker.failureRatio: {resilience.CircuitBreaker.FailureRatio} is out of range (0, 1].");
        }
        if (resilience.CircuitBreaker.MinimumThroughput is < 2)
        {
            errors.Add($"{path}.circuitBreaker.minimumThroughput: must be at least 2.");
        }
    }

    private static void ValidateRateLimits(string path, RateLimitOptions? limits, List<string> errors)
    {
        if (limits is null)
        {
            return;
        }
        foreach (var (key, value) in new (string, int?)[]
        {
            ("requestsPerMinute", limits.RequestsPerMinute), ("tokensPerMinute", limits.TokensPerMinute), ("maxConcurrency", limits.MaxConcurrency),
        })
        {
            if (value is < 1)
            {
                errors.Add($"{path}.{key}: {value} must be at least 1 (leave the key out for no limit).");
            }
        }
        if (limits.MaxQueueWaitSeconds is < 0 or > 3600 || (limits.MaxQueueWaitSeconds is { } wait && double.IsNaN(wait)))
        {
            errors.Add($"{path}.maxQueueWaitSeconds: {limits.MaxQueueWaitSeconds} is out of range 0 to 3600.");
        }
    }

    private static void ValidateParameters(string path, double? temperature, double? topP, int? maxTokens, List<string> errors)
    {
        if (temperature is < 0 or > 2)
        {
            errors.Add($"{path}.temperature: {temperature} is out of range 0 to 2.");
        }
        if (topP is < 0 or > 1)
        {
            errors.Add($"{path}.topP: {topP} is out of range 0 to 1.");
        }
        if (maxTokens is < 1)
        {
            errors.Add($"{path}.maxTokens: must be at least 1.");
        }
    }

    /// <summary>
    /// An embeddings model needs providers that embed (not Anthropic, which has no embeddings API), and a model falls
    /// back only to models of its own kind: a chat fallback could not answer an embeddings request, nor the reverse.
    /// </summary>
    private static void ValidateKind(string path, ModelOptions model, BatonOptions options, List<string> errors)
    {
        if (model.Kind is { } kind && !ModelKinds.All.Contains(kind, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{path}.kind: unknown kind '{kind}'; expected one of {Known(ModelKinds.All)}.");
            return;
        }
        var own = ModelKinds.Of(model.Kind);
        if (own == ModelKinds.Embeddings)
        {
            for (var i = 0; i < model.Deployments.Count; i++)
            {
                if (model.Deployments[i].Provider is { } provider && options.Providers.TryGetValue(provider, out var providerOptions) &&
                    string.Equals(providerOptions.Type, ProviderTypes.Anthropic, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{path}.deployments[{i}].provider: '{provider}' is an Anthropic provider, which serves no embeddings.");
                }
            }
        }
        for (var i = 0; i < model.Fallbacks.Count; i++)
        {
            if (options.Models.TryGetValue(model.Fallbacks[i], out var fallback) && ModelKinds.Of(fallback.Kind) != own)
            {
                errors.Add($"{path}.fallbacks[{i}]: '{model.Fallbacks[i]}' is of kind '{ModelKinds.Of(fallback.Kind)}' and this model of kind '{own}'; a model falls back only to models of its kind.");
            }
        }
        if (model.ContextWindowFallback is { } larger && options.Models.TryGetValue(larger, out var largerModel) && ModelKinds.Of(largerModel.Kind) != own)
        {
            errors.Add($"{path}.contextWindowFallback: '{larger}' is of kind '{ModelKinds.Of(largerModel.Kind)}' and this model of kind '{own}'.");
        }
    }

    private static string Known(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
