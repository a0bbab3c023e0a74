using System.Globalization;
using System.Text.Json;

namespace Baton.Accounting.Catalog;

/// <summary>
/// A model's prices over time: one set, or several with constraints (a start date, or a daily time window
/// such as DeepSeek's off-peak hours). As in genai-prices, the last set whose constraint holds at the time of
/// the request wins, and the first set applies when none holds.
/// </summary>
public sealed class CatalogPrices
{
    private readonly IReadOnlyList<(PriceConstraint? Constraint, ModelPrice Price)> _sets;

    private CatalogPrices(IReadOnlyList<(PriceConstraint?, ModelPrice)> sets) => _sets = sets;

    /// <summary>True when the prices depend on when the request is made.</summary>
    public bool IsConditional => _sets.Count > 1;

    /// <summary>Every set with its constraint (null: always), in the catalog's order.</summary>
    public IEnumerable<(PriceConstraint? Constraint, ModelPrice Price)> Sets => _sets;

    /// <summary>The prices in force at <paramref name="time"/>.</summary>
    public ModelPrice At(DateTimeOffset time)
    {
        for (var i = _sets.Count - 1; i >= 0; i--)
        {
            if (_sets[i].Constraint is null || _sets[i].Constraint!.IsActive(time))
            {
                return _sets[i].Price;
            }
        }
        return _sets[0].Price;
    }

    internal static CatalogPrices Read(JsonElement prices, string where)
    {
        if (prices.ValueKind == JsonValueKind.Array)
        {
            var sets = new List<(PriceConstraint?, ModelPrice)>();
            foreach (var conditional in prices.EnumerateArray())
            {
                if (conditional.ValueKind != JsonValueKind.Object || !conditional.TryGetProperty("prices", out var set))
                {
                    throw new FormatException($"{where}: each conditional price needs 'prices'.");
                }
                var constraint = conditional.TryGetProperty("constraint", out var c) && c.ValueKind == JsonValueKind.Object
                    ? PriceConstraint.Read(c, where)
                    : null;
                sets.Add((constraint, Set(set, where)));
            }
            if (sets.Count == 0)
            {
                throw new FormatException($"{where}: an empty list of prices.");
            }
            return new CatalogPrices(sets);
        }
        return new CatalogPrices([(null, Set(prices, where))]);
    }

    private static ModelPrice Set(JsonElement set, string where)
    {
        if (set.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{where}: prices must be an object.");
        }
        // Tokens Baton counts: text input, cache reads and writes, output. Audio and image prices apply to tokens
        // the chat wire formats Baton speaks do not report apart, so they are left out.
        var input = Unit(set, "input_mtok", where);
        var cacheRead = Unit(set, "cache_read_mtok", where);
        var cacheWrite = Unit(set, "cache_write_mtok", where);
        var output = Unit(set, "output_mtok", where);
        var requests = set.TryGetProperty("requests_kcount", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDecimal() : 0m;

        // Each unit may have its own thresholds; every threshold of any unit starts a tier in which each unit
        // takes its own price for that prompt size.
        var thresholds = new SortedSet<long>();
        foreach (var unit in (Tiered?[])[input, cacheRead, cacheWrite, output])
        {
            foreach (var tier in unit?.Tiers ?? [])
            {
                thresholds.Add(tier.Start);
            }
        }
        ModelPrice At(long? above)
        {
            // A unit without a price is billed as its parent unit (cache tokens as input), as genai-prices
            // decomposes usage only over priced units.
            var inputPrice = input?.At(above) ?? 0m;
            return new ModelPrice(inputPrice, cacheRead?.At(above) ?? inputPrice, output?.At(above) ?? 0m, cacheWrite?.At(above))
            {
                PerThousandRequests = requests,
            };
        }
        return At(null) with { Tiers = thresholds.Select(start => new PriceTier(start, At(start))).ToArray() };
    }

    private static Tiered? Unit(JsonElement set, string name, string where)
    {
        if (!set.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number)
        {
            return new Tiered(value.GetDecimal(), []);
        }
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("base", out var b) && b.ValueKind == JsonValueKind.Number &&
            value.TryGetProperty("tiers", out var tiers) && tiers.ValueKind == JsonValueKind.Array)
        {
            var list = tiers.EnumerateArray().Select(t => (Start: t.GetProperty("start").GetInt64(), Price: t.GetProperty("price").GetDecimal()))
                .OrderBy(t => t.Start).ToArray();
            return new Tiered(b.GetDecimal(), list);
        }
        throw new FormatException($"{where}.{name}: expected a number or {{base, tiers}}.");
    }

    private sealed record Tiered(decimal Base, (long Start, decimal Price)[] Tiers)
    {
        /// <summary>The price for a prompt of more than <paramref name="above"/> tokens (null: the smallest prompt).</summary>
        public decimal At(long? above)
        {
            var price = Base;
            foreach (var tier in Tiers)
            {
                if (above is { } size && size >= tier.Start)
                {
                    price = tier.Price;
                }
            }
            return price;
        }
    }
}

/// <summary>When a conditional price applies: from a date on (UTC), or within a daily time window.</summary>
public sealed record PriceConstraint(DateOnly? StartDate, TimeOnly? StartTime, TimeOnly? EndTime)
{
    public bool IsActive(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        if (StartDate is { } start)
        {
            return DateOnly.FromDateTime(utc) >= start;
        }
        var now = TimeOnly.FromDateTime(utc);
        return StartTime is { } from && EndTime is { } to && from <= now && now < to;
    }

    public override string ToString() => StartDate is { } start
        ? $"from {start:yyyy-MM-dd}"
        : $"{StartTime:HH\\:mm}-{EndTime:HH\\:mm} UTC";

    internal static PriceConstraint Read(JsonElement constraint, string where)
    {
        if (constraint.TryGetProperty("start_date", out var date) && date.ValueKind == JsonValueKind.String)
        {
            return new PriceConstraint(DateOnly.ParseExact(date.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture), null, null);
        }
        if (constraint.TryGetProperty("start_time", out var from) && constraint.TryGetProperty("end_time", out var to))
        {
            return new PriceConstraint(null, Time(from.GetString(), where), Time(to.GetString(), where));
        }
        throw new FormatException($"{where}: a constraint needs start_date, or start_time and end_time.");
    }

    /// <summary>A time of day such as <c>16:30:00Z</c> or <c>00:30:00+08:00</c>, as UTC.</summary>
    private static TimeOnly Time(string? value, string where)
    {
        if (value is not null && DateTimeOffset.TryParseExact("2000-01-01T" + value, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ss"],
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return TimeOnly.FromDateTime(parsed.UtcDateTime);
        }
        throw new FormatException($"{where}: '{value}' is not a time of day.");
    }
}
