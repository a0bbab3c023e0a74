namespace Baton.Configuration;

/// <summary>
/// Baton's configuration: the root of <c>baton.json</c>, or the <c>Baton</c> section of <c>appsettings.json</c>.
/// Keys are case-insensitive. See docs/configuration.md for every key.
/// </summary>
public sealed class BatonOptions
{
    /// <summary>The section of an ASP.NET Core application's configuration (<c>appsettings.json</c>) Baton binds.</summary>
    public const string SectionName = "Baton";

    /// <summary>Upstream providers by name.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The models clients may name, by name (matched case-insensitively).</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Request parameters applied when a client leaves them out.</summary>
    public RequestDefaults Defaults { get; set; } = new();

    /// <summary>Settings of the HTTP gateway.</summary>
    public GatewayOptions Gateway { get; set; } = new();

    /// <summary>
    /// Task types and the tier each maps to (seed 002's TASK_MODEL_MAP). Added to, and overriding, Baton's
    /// built-in map; reloaded without restart when the configuration file changes.
    /// </summary>
    public Dictionary<string, string> Tasks { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Tiers of models for task routing, by name; reloaded without restart.</summary>
    public Dictionary<string, TierOptions> Tiers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Where <c>"model": "auto"</c> goes when no tier has a model for the task (<c>routing.defaultModel</c>).</summary>
    public TaskRoutingOptions Routing { get; set; } = new();

    /// <summary>Retries, timeouts and circuit breakers for every deployment, unless a provider or model says otherwise.</summary>
    public ResilienceOptions Resilience { get; set; } = new();

    /// <summary>The response cache.</summary>
    public CacheOptions Cache { get; set; } = new();

    /// <summary>Batches (<c>POST /batch</c>, <c>ProcessBatchAsync</c>).</summary>
    public BatchOptions Batch { get; set; } = new();

    /// <summary>
    /// Prices per million tokens by upstream model id (e.g. <c>deepseek/deepseek-chat</c>, <c>ollama/llama3:8b</c>)
    /// or deployment id (<c>provider/upstream-model</c>), over the price catalog; a deployment's own <c>price</c>
    /// wins over both. <c>prices.catalogPath</c> names a newer genai-prices <c>data.json</c> to use instead of the
    /// shipped snapshot.
    /// </summary>
    public PricesOptions Prices { get; set; } = new();

    /// <summary>
    /// Pipeline files (JSON or YAML) by the name they are run as (<c>POST /v1/pipelines/{name}/runs</c>,
    /// <c>baton pipeline run NAME</c>); relative paths are relative to the working directory.
    /// </summary>
    public Dictionary<string, string> Pipelines { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The cost ledger (SQLite, or PostgreSQL with <c>postgres.connection</c>).</summary>
    public LedgerOptions Ledger { get; set; } = new();

    /// <summary>Spending limits per session, key, user, tag or overall.</summary>
    public BudgetOptions Budgets { get; set; } = new();

    /// <summary>Caller keys: the master key and the store of virtual keys.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>The PostgreSQL database several gateways share for keys, the ledger and budgets (<c>postgres.connection</c>).</summary>
    public PostgresOptions Postgres { get; set; } = new();
    /// <summary>Traces, metrics and their export.</summary>
    public ObservabilityOptions Observability { get; set; } = new();
    /// <summary>Responses stored by the Responses API front (<c>/v1/responses</c>): where, and for how long.</summary>
    public ResponsesOptions Responses { get; set; } = new();
    /// <summary>State shared by many gateway instances: limits, budgets, breakers, key revocations and the cache.</summary>
    public RedisOptions Redis { get; set; } = new();

    /// <summary>True when this configuration is Baton's built-in simulator default rather than the user's.</summary>
    public bool IsBuiltInDefault { get; set; }
}

/// <summary>One upstream API and how to reach it.</summary>
public sealed class ProviderOptions
{
    /// <summary><c>openai</c>, <c>anthropic</c>, <c>gemini</c>, <c>ollama</c>, <c>azure</c> or <c>simulator</c>.</summary>
    public string? Type { get; set; }

    /// <summary>
    /// False switches the provider off (e.g. <c>Baton__Providers__ollama__Enabled=false</c> where no local server
    /// runs): its deployments are skipped, its key is not needed, and a model left with no deployment answers 404.
    /// Default true.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The API's base URL, to which Baton appends the endpoint (<c>/chat/completions</c>, <c>/messages</c>, ...); an
    /// absolute http(s) URL. Default: the vendor's public endpoint for <see cref="Type"/>
    /// (<see cref="ProviderTypes.DefaultBaseUrl"/>). A URL without a path gets the version path the vendor's SDK adds.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>The name of the environment variable holding the key (never the key itself).</summary>
    public string? ApiKeyEnv { get; set; }

    /// <summary>Refused when set: keys belong in the environment. Present only to explain why.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Extra headers sent with every request, e.g. OpenRouter's <c>HTTP-Referer</c> and <c>X-Title</c>.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Upper bound for one upstream request, in seconds.</summary>
    public double? TimeoutSeconds { get; set; }

    /// <summary>For <c>azure</c>: the <c>api-version</c> query parameter (Azure AI Inference only).</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Retries, timeouts and breaker settings for this provider's deployments.</summary>
    public ResilienceOptions? Resilience { get; set; }

    /// <summary>Rate limits of each of this provider's deployments (each deployment has its own buckets).</summary>
    public RateLimitOptions? RateLimits { get; set; }

    /// <summary>For <c>simulator</c>: how the simulated model behaves.</summary>
    public Simulation.SimulatorBehavior Simulator { get; set; } = new();
}

/// <summary>A model name clients use, and the deployments that serve it.</summary>
public sealed class ModelOptions
{
    /// <summary>The deployments that serve this model, in the order the <c>ordered</c> strategy tries them; at least one.</summary>
    public List<DeploymentOptions> Deployments { get; set; } = [];

    /// <summary>Other models to ask, in order, when every deployment of this one has failed.</summary>
    public List<string> Fallbacks { get; set; } = [];

    /// <summary>How to choose among the deployments: one of <see cref="RoutingStrategies.All"/>; default <c>ordered</c>.</summary>
    public string? Strategy { get; set; }

    /// <summary>How long this model's answers stay in the cache; overrides <c>cache.ttlSeconds</c>.</summary>
    public double? CacheTtlSeconds { get; set; }

    /// <summary>A larger-context model to ask when a prompt does not fit this model's context window.</summary>
    public string? ContextWindowFallback { get; set; }

    /// <summary>Retries, timeouts and breaker settings for this model's deployments.</summary>
    public ResilienceOptions? Resilience { get; set; }

    /// <summary>What the model serves: one of <see cref="ModelKinds.All"/>; default <c>chat</c>.</summary>
    public string? Kind { get; set; }
}

/// <summary>One (provider, upstream model) pair, with optional parameters of its own.</summary>
public sealed class DeploymentOptions
{
    /// <summary>The name of the provider (a key of <see cref="BatonOptions.Providers"/>) this deployment calls.</summary>
    public string? Provider { get; set; }

    /// <summary>The upstream model id, e.g. <c>deepseek/deepseek-r1:free</c>.</summary>
    public string? Model { get; set; }

    /// <summary>The sampling temperature sent to this deployment when the client sets none; over <c>defaults.temperature</c>.</summary>
    public double? Temperature { get; set; }

    /// <summary>The nucleus sampling <c>top_p</c> sent to this deployment when the client sets none; over <c>defaults.topP</c>.</summary>
    public double? TopP { get; set; }

    /// <summary>The most tokens this deployment may generate when the client sets no limit; over <c>defaults.maxTokens</c>.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>For the <c>weighted</c> strategy: this deployment's share relative to the others. Default 1.</summary>
    public double? Weight { get; set; }

    /// <summary>Price per million tokens, for cost tracking and the <c>cheapest</c> strategy; keys left out come from the price table.</summary>
    public PriceOptions? Price { get; set; }

    /// <summary>Rate limits of this deployment; each key set here wins over the provider's.</summary>
    public RateLimitOptions? RateLimits { get; set; }
}

/// <summary>Request parameters applied when the client does not set them (seed 003's LLMConfig).</summary>
public sealed class RequestDefaults
{
    /// <summary>The sampling temperature sent when the client sets none; unset leaves it to the upstream's default.</summary>
    public double? Temperature { get; set; }

    /// <summary>The nucleus sampling <c>top_p</c> sent when the client sets none; unset leaves it to the upstream's default.</summary>
    public double? TopP { get; set; }

    /// <summary>The most tokens generated when the client sets no limit; unset leaves it to the upstream's default.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Default upper bound of one upstream request, in seconds.</summary>
    public double TimeoutSeconds { get; set; } = 120;

    /// <summary>Merges a deployment's own parameters over these defaults.</summary>
    public RequestDefaults With(DeploymentOptions deployment) => new()
    {
        Temperature = deployment.Temperature ?? Temperature,
        TopP = deployment.TopP ?? TopP,
        MaxTokens = deployment.MaxTokens ?? MaxTokens,
        TimeoutSeconds = TimeoutSeconds,
    };
}

/// <summary>How batches run.</summary>
public sealed class BatchOptions
{
    /// <summary>Items of one batch answered at the same time (seed 001's <c>MAX_CONCURRENT_REQUESTS</c>). Default 10.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>
    /// The SQLite file holding the Batches API's files, batches and answered items, relative to the working directory.
    /// Default <c>baton-batches.db</c>; created on the first upload.
    /// </summary>
    public string JobsDatabase { get; set; } = DefaultJobsDatabase;

    /// <summary>
    /// The largest file <c>POST /v1/files</c> accepts, in bytes: 1024 to <see cref="MaxMaxUploadBytes"/>. Default 200 MiB
    /// (OpenAI's limit for a batch input file). Uploads are streamed to the jobs database, never held whole in memory.
    /// </summary>
    public long MaxUploadBytes { get; set; } = DefaultMaxUploadBytes;

    /// <summary>
    /// How long, in seconds, a gateway's lease on a running batch lasts unless renewed (it is renewed every third of
    /// it): with a shared store (<c>postgres.connection</c>), a batch whose gateway died is taken over by another once
    /// its lease has expired. 1 to 3600; default 30.
    /// </summary>
    public int? LeaseSeconds { get; set; }

    /// <summary>The jobs database's file when <see cref="JobsDatabase"/> is not set, relative to the working directory.</summary>
    public const string DefaultJobsDatabase = "baton-batches.db";

    /// <summary>The default <see cref="MaxUploadBytes"/>: 200 MiB, OpenAI's limit for a batch input file.</summary>
    public const long DefaultMaxUploadBytes = 200 * 1024 * 1024;

    /// <summary>The largest <see cref="MaxUploadBytes"/> allowed: 512 MiB, OpenAI's largest file, well within SQLite's 1 GB blob.</summary>
    public const long MaxMaxUploadBytes = 512 * 1024 * 1024;
}

/// <summary>Settings of the HTTP gateway.</summary>
public sealed class GatewayOptions
{
    /// <summary>Requests with a larger body are refused with 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Host names (without a port) a request that arrives on a loopback address may name in its <c>Host</c> header,
    /// besides <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>; others are refused with 421, which keeps web pages
    /// from reaching the gateway through DNS rebinding. <c>"*"</c> allows any host.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Cross-origin requests from web pages; none are allowed unless configured.</summary>
    public GatewayCorsOptions Cors { get; set; } = new();

    /// <summary>The certificate an <c>https://</c> address in <c>--urls</c> serves (HTTP/1.1 and HTTP/2).</summary>
    public GatewayTlsOptions Tls { get; set; } = new();
}

/// <summary>
/// HTTPS for the gateway (<c>gateway.tls</c>): needed by an <c>https://</c> address, which then also speaks HTTP/2
/// (negotiated with each client), the protocol that carries a stream's cost as a trailer.
/// </summary>
public sealed class GatewayTlsOptions
{
    /// <summary>
    /// The certificate: a PEM file (its private key in the same file or in <see cref="KeyPath"/>) or a PKCS#12 file
    /// (<c>.pfx</c>, <c>.p12</c>) holding both. Relative to the working directory.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key, when it is not in <see cref="CertificatePath"/>. Relative to the working directory.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The environment variable holding the password of an encrypted key or of a PKCS#12 file.</summary>
    public string? PasswordEnv { get; set; }

    /// <summary>
    /// How often the files are read again (default 60 s): a certificate renewed in place is served to new
    /// connections without a restart. 0 reads them only at start.
    /// </summary>
    public double ReloadSeconds { get; set; } = 60;

    /// <summary>The longest <see cref="ReloadSeconds"/>: a day.</summary>
    public const double MaxReloadSeconds = 86_400;
}

/// <summary>CORS for the gateway (<c>gateway.cors</c>): off unless origins are listed.</summary>
public sealed class GatewayCorsOptions
{
    /// <summary>Origins (<c>https://app.example.com</c>, <c>http://localhost:3000</c>) whose pages may call the gateway; <c>"*"</c> allows any.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
