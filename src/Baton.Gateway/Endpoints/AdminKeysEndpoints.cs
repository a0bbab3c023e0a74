using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Baton.Accounting;
using Baton.Accounting.Budgets;
using Baton.Accounting.Ledger;
using Baton.Auth;
using Baton.Configuration;
using Baton.Errors;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// <c>/admin/keys</c>, for the master key only: create a virtual key (its secret is in that answer and nowhere
/// else, ever), list keys, read one with its spending, change its settings, revoke it.
/// </summary>
internal static class AdminKeysEndpoints
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly string[] Fields = ["name", "models", "rpm", "tpm", "max_parallel", "budget_usd", "budget_period", "expires_at", "tags", "metadata"];

    public static async Task CreateAsync(HttpContext http, KeyRing keys, BatonOptions options, TimeProvider time)
    {
        var settings = Apply(await ReadAsync(http, options), new VirtualKey { Id = "", Hint = "", CreatedAt = default }, options);
        if (settings.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            throw BatonException.InvalidRequest($"'expires_at' ({Iso(expires)}) is in the past.", "expires_at", "invalid_value");
        }
        var (key, secret) = await keys.CreateAsync(settings, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status201Created;
        await http.Response.WriteAsJsonAsync(View(key, time.GetUtcNow()) with { Key = secret }, Json, http.RequestAborted);
    }

    public static async Task ListAsync(HttpContext http, KeyRing keys, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var all = await keys.Store.ListAsync(http.RequestAborted);
        await http.Response.WriteAsJsonAsync(new KeyListView("list", all.Select(k => View(k, now)).ToList()), Json, http.RequestAborted);
    }

    public static async Task GetAsync(HttpContext http, KeyRing keys, TimeProvider time, string keyId, IServiceProvider services)
    {
        var key = await keys.Store.GetAsync(keyId, http.RequestAborted) ?? throw NotFound(keyId);
        var now = time.GetUtcNow();
        var spend = await SpendAsync(http, key, now, services);
        await http.Response.WriteAsJsonAsync(View(key, now) with { Spend = spend }, Json, http.RequestAborted);
    }

    public static async Task UpdateAsync(HttpContext http, KeyRing keys, BatonOptions options, TimeProvider time, string keyId)
    {
        var fields = await ReadAsync(http, options);
        var key = await keys.Store.GetAsync(keyId, http.RequestAborted) ?? throw NotFound(keyId);
        var updated = Apply(fields, key, options);
        if (!await keys.UpdateAsync(updated, http.RequestAborted))
        {
            throw NotFound(keyId);
        }
        await http.Response.WriteAsJsonAsync(View(updated, time.GetUtcNow()), Json, http.RequestAborted);
    }

    public static async Task RevokeAsync(HttpContext http, KeyRing keys, TimeProvider time, string keyId)
    {
        var key = await keys.RevokeAsync(keyId, http.RequestAborted) ?? throw NotFound(keyId);
        await http.Response.WriteAsJsonAsync(View(key, time.GetUtcNow()), Json, http.RequestAborted);
    }

    private static async Task<SpendView> SpendAsync(HttpContext http, VirtualKey key, DateTimeOffset now, IServiceProvider services)
    {
        decimal? total = null;
        long? requests = null;
        if (services.GetService(typeof(LedgerWriter)) is LedgerWriter ledger)
        {
            await ledger.FlushAsync(http.RequestAborted);
            var report = await ledger.QueryAsync(new CostQuery(ApiKey: key.Id), http.RequestAborted);
            (total, requests) = (report.Total.CostUsd, report.Total.Requests);
        }
        if (key.BudgetUsd is not { } budget || services.GetService(typeof(CostAccountant)) is not CostAccountant { Budgets: { } gate })
        {
            return new SpendView(total, requests, null);
        }
        var counter = BudgetPolicy.ForKey(key, now);
        var state = await gate.Store.GetAsync(counter.CounterKey, now, http.RequestAborted);
        return new SpendView(total, requests, new BudgetView(counter.Period, budget, state.SpentUsd, state.ReservedUsd,
            Math.Max(0, budget - state.CommittedUsd), counter.ResetsAt));
    }

    /// <summary>The body as an object whose members are all known fields.</summary>
    private static async Task<Dictionary<string, JsonElement>> ReadAsync(HttpContext http, BatonOptions options)
    {
        using var body = await RequestBodies.ReadAsync(http, options.Gateway.MaxRequestBodyBytes);
        if (body.Memory.IsEmpty)
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(body.Memory);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw BatonException.InvalidRequest("The body must be a JSON object.", null, "invalid_json");
            }
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!Fields.Contains(property.Name, StringComparer.Ordinal))
                {
                    throw BatonException.InvalidRequest(
                        $"Unknown parameter: '{property.Name}' (known: {string.Join(", ", Fields)}).", property.Name, "unknown_parameter");
                }
                if (!fields.TryAdd(property.Name, property.Value.Clone()))
                {
                    throw BatonException.InvalidRequest($"'{property.Name}' is given twice.", property.Name, "invalid_json");
                }
            }
            return fields;
        }
        catch (JsonException ex)
        {
            throw BatonException.InvalidRequest($"The body is not valid JSON: {ex.Message}", null, "invalid_json");
        }
    }

    /// <summary>The key with the given fields changed; a field set to null is cleared.</summary>
    private static VirtualKey Apply(Dictionary<string, JsonElement> fields, VirtualKey key, BatonOptions options)
    {
        foreach (var (name, value) in fields)
        {
            var isNull = value.ValueKind == JsonValueKind.Null;
            key = name switch
            {
                "name" => key with { Name = isNull ? null : String(value, name) },
                "models" => key with { Models = isNull ? null : Models(value, options) },
                "rpm" => key with { Rpm = isNull ? null : Positive(value, name) },
                "tpm" => key with { Tpm = isNull ? null : Positive(value, name) },
                "max_parallel" => key with { MaxParallel = isNull ? null : Positive(value, name) },
                "budget_usd" => key with { BudgetUsd = isNull ? null : Budget(value) },
                "budget_period" => key with { BudgetPeriod = isNull ? BudgetPeriods.Total : Period(value) },
                "expires_at" => key with { ExpiresAt = isNull ? null : Date(value) },
                "tags" => key with { Tags = isNull ? null : Strings(value, name) },
                "metadata" => key with { MetadataJson = isNull ? null : Metadata(value) },
                _ => key,
            };
        }
        return key;
    }

    private static string String(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(name, "a string");

    private static List<string> Strings(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(name, "an array of strings");
        }
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                throw WrongType(name, "an array of non-empty strings");
            }
            list.Add(item.GetString()!.Trim());
        }
        return list;
    }

    /// <summary>Configured model names, or <c>provider/model</c> for a <c>/batch</c> item naming an upstream model no entry names.</summary>
    private static List<string> Models(JsonElement value, BatonOptions options)
    {
        var models = Strings(value, "models");
        foreach (var model in models)
        {
            var slash = model.IndexOf('/', StringComparison.Ordinal);
            var known = options.Models.ContainsKey(model) || (slash > 0 && options.Providers.ContainsKey(model[..slash]));
            if (!known)
            {
                throw BatonException.InvalidRequest(
                    $"'models' names '{model}', which is not a configured model (configured: {string.Join(", ", options.Models.Keys.Order(StringComparer.Ordinal))}).",
                    "models", "model_not_found");
            }
        }
        return models;
    }

    private static int Positive(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0 ? number : throw WrongType(name, "an integer greater than 0");

    private static decimal Budget(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var usd) && usd >= 0 ? usd : throw WrongType("budget_usd", "a number of US dollars, 0 or more");

    private static string Period(JsonElement value)
    {
        var period = value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType("budget_period", "a string");
        return BudgetPeriods.All.Contains(period, StringComparer.Ordinal)
            ? period
            : throw BatonException.InvalidRequest(
                $"Invalid value for 'budget_period': '{period}'. Supported values are: {string.Join(", ", BudgetPeriods.All.Select(p => $"'{p}'"))}.", "budget_period", "invalid_value");
    }

    private static DateTimeOffset Date(JsonElement value) =>
        value.ValueKind == JsonValueKind.String &&
        DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : throw WrongType("expires_at", "an ISO 8601 date and time (e.g. 2026-12-31T23:59:59Z)");

    private static string Metadata(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object ? value.GetRawText() : throw WrongType("metadata", "an object");

    private static BatonException WrongType(string name, string expected) =>
        BatonException.InvalidRequest($"Invalid value for '{name}': expected {expected}.", name, "invalid_type");

    private static BatonException NotFound(string id) =>
        new(StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest, $"No key with id '{id}'.", "key_id", "key_not_found");

    private static string Iso(DateTimeOffset date) => date.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static KeyView View(VirtualKey key, DateTimeOffset now) => new(
        key.Id, "api_key", key.Name, key.Hint,
        key.RevokedAt is not null ? "revoked" : key.IsActive(now) ? "active" : "expired",
        key.Models, key.Rpm, key.Tpm, key.MaxParallel, key.BudgetUsd, key.BudgetPeriod, key.ExpiresAt, key.Tags,
        key.MetadataJson is { } metadata ? JsonDocument.Parse(metadata).RootElement.Clone() : null,
        key.CreatedAt, key.RevokedAt);
}

/// <summary>A virtual key as the admin API shows it; <see cref="Key"/> (the secret) only in the answer that created it.</summary>
public sealed record KeyView(
    string Id, string Object, string? Name, string KeyHint, string Status, IReadOnlyList<string>? Models, int? Rpm, int? Tpm, int? MaxParallel,
    decimal? BudgetUsd, string BudgetPeriod, DateTimeOffset? ExpiresAt, IReadOnlyList<string>? Tags, JsonElement? Metadata,
    DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Key { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SpendView? Spend { get; init; }
}

/// <summary>What a key has spent: in all (from the ledger) and in its budget's current window.</summary>
public sealed record SpendView(decimal? TotalUsd, long? Requests, BudgetView? Budget);

/// <summary>A key's budget in its current window: spent, reserved by requests in flight, what is left, and when it resets.</summary>
public sealed record BudgetView(string Period, decimal LimitUsd, decimal SpentUsd, decimal ReservedUsd, decimal RemainingUsd, DateTimeOffset? ResetsAt);

/// <summary>The body of <c>GET /admin/keys</c>.</summary>
public sealed record KeyListView(string Object, IReadOnlyList<KeyView> Data);
