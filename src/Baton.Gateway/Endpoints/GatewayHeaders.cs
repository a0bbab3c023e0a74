namespace Baton.Gateway.Endpoints;

/// <summary>Headers the gateway reads and writes.</summary>
public static class GatewayHeaders
{
    /// <summary>The configured model that answered (a fallback's name when one was used).</summary>
    public const string Model = "x-baton-model";

    /// <summary>The model the client asked for.</summary>
    public const string RequestedModel = "x-baton-requested-model";

    /// <summary><c>true</c> when a fallback model answered instead of the requested one.</summary>
    public const string FallbackUsed = "x-baton-fallback";

    /// <summary>The tier a task-routed request went to (seed 002's <c>model_tier</c>).</summary>
    public const string Tier = "x-baton-tier";

    /// <summary>What the response cache did: <c>hit</c>, <c>miss</c> or <c>bypass</c>.</summary>
    public const string Cache = "x-baton-cache";

    /// <summary>Request header: how long this answer may stay in the cache, in seconds.</summary>
    public const string CacheTtl = "X-Baton-Cache-TTL";

    /// <summary>The provider that answered.</summary>
    public const string Provider = "x-baton-provider";

    /// <summary>The deployment that answered: <c>provider/upstream-model</c>.</summary>
    public const string Deployment = "x-baton-deployment";

    /// <summary>How many upstream attempts the answer took.</summary>
    public const string Attempts = "x-baton-attempts";

    /// <summary>Time the gateway itself spent on the request (excluding the upstream), in milliseconds.</summary>
    public const string OverheadMs = "x-baton-overhead-ms";

    /// <summary>Request header naming a task type instead of (or besides) a model.</summary>
    public const string Task = "X-Baton-Task";

    /// <summary>Request header listing models to fall back to for this request, comma-separated.</summary>
    public const string Fallbacks = "X-Baton-Fallbacks";

    /// <summary>
    /// The answer's cost in US dollars. For a stream: a trailer over HTTP/2, and an SSE comment before
    /// <c>[DONE]</c> when the request sends <see cref="StreamCost"/>.
    /// </summary>
    public const string CostUsd = "x-baton-cost-usd";

    /// <summary>Request header: <c>true</c> asks for a stream's cost as an SSE comment at its end.</summary>
    public const string StreamCost = "X-Baton-Stream-Cost";

    /// <summary>One per soft budget limit the request may cross.</summary>
    public const string BudgetWarning = "x-baton-budget-warning";

    /// <summary>Request header with tags for budgets, comma-separated.</summary>
    public const string Tags = "X-Baton-Tags";

    /// <summary>Request header naming the session a request belongs to, for cost tracking.</summary>
    public const string Session = "X-Baton-Session";
}
