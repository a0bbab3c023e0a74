using System.Text.Json.Serialization;
using Baton.Engine;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary><c>GET /v1/models</c>: the configured models in OpenAI's list shape (for a virtual key, those it may use).</summary>
internal static class ModelsEndpoint
{
    public static ModelList Handle(HttpContext http, BatonEngine engine, GatewayStartTime startTime) => new(
        "list",
        engine.Catalog.Models
            .Where(m => GatewayAuth.Caller(http)?.Key is not { } key || key.Allows(m.Name))
            .OrderBy(m => m.Name, StringComparer.OrdinalIgnoreCase)
            .Select(m => new ModelEntry(m.Name, "model", startTime.UnixSeconds, "baton"))
            .ToList());
}

public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelEntry> Data);

public sealed record ModelEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

/// <summary>When this gateway started: the <c>created</c> time of the models it lists.</summary>
public sealed class GatewayStartTime(TimeProvider time)
{
    public long UnixSeconds { get; } = time.GetUtcNow().ToUnixTimeSeconds();
}

public sealed record HealthStatus([property: JsonPropertyName("status")] string Status);
