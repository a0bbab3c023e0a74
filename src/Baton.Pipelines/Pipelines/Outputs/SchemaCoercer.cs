using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Pipelines.Outputs;

/// <summary>
/// Adjusts the values of a parsed answer that a model wrote in an obviously equivalent form (<c>"7"</c> for 7,
/// <c>"yes"</c> for true, <c>"High"</c> for the enum's <c>"high"</c>) before validation, recording each change.
/// It only ever rewrites a value in place: it never adds a missing property or removes one, so a missing answer
/// stays a validation problem for the model to fix.
/// </summary>
internal sealed class SchemaCoercer
{
    private readonly SchemaNavigator _schemas;
    private readonly List<string> _coercions;

    public SchemaCoercer(SchemaNavigator schemas, List<string> coercions)
    {
        _schemas = schemas;
        _coercions = coercions;
    }

    /// <summary>Coerces <paramref name="node"/> against <paramref name="schema"/> and returns the node to keep in its place.</summary>
    public JsonNode? Coerce(JsonNode? node, JsonElement schema, string path)
    {
        schema = _schemas.Resolve(schema);
        if (schema.ValueKind != JsonValueKind.Object || node is null)
        {
            return node;
        }

        var types = SchemaNavigator.Types(schema);
        switch (node)
        {
            case JsonObject obj:
                CoerceProperties(obj, schema, path);
                return obj;
            case JsonArray array:
                CoerceItems(array, schema, path);
                return array;
            case JsonValue value:
                return CoerceScalar(value, schema, types, path);
            default:
                return node;
        }
    }

    private void CoerceProperties(JsonObject obj, JsonElement schema, string path)
    {
        // Snapshot the names: replacing a value while enumerating the object is not allowed.
        foreach (var name in obj.Select(property => property.Key).ToList())
        {
            if (_schemas.PropertySchema(schema, name) is not { } propertySchema)
            {
                continue;
            }

            var current = obj[name];
            var coerced = Coerce(current, propertySchema, JsonPaths.Property(path, name));
            if (!ReferenceEquals(current, coerced))
            {
                obj[name] = coerced;
            }
        }
    }

    private void CoerceItems(JsonArray array, JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        for (var i = 0; i < array.Count; i++)
        {
            var current = array[i];
            var coerced = Coerce(current, items, JsonPaths.Index(path, i));
            if (!ReferenceEquals(current, coerced))
            {
                array[i] = coerced;
            }
        }
    }

    private JsonNode CoerceScalar(JsonValue value, JsonElement schema, SchemaTypes types, string path)
    {
        var kind = value.GetValueKind();
        if (kind == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            if (types.Allows(SchemaTypes.String))
            {
                return MatchEnumSpelling(value, text, schema, path);
            }

            if (types.Allows(SchemaTypes.Number) && ReadNumber(text, schema, types.WantsIntegerOnly) is { } number)
            {
                return ClampToBounds(Record(path, value, ToNumberNode(number)), number, schema, path);
            }

            if (types.Allows(SchemaTypes.Boolean) && ReadBoolean(text) is { } flag)
            {
                return Record(path, value, JsonValue.Create(flag));
            }

            if (types.Allows(SchemaTypes.Array) && !types.Allows(SchemaTypes.String) && WantsStringItems(schema))
            {
                return Record(path, value, new JsonArray(JsonValue.Create(text)));
            }

            return value;
        }

        if (kind == JsonValueKind.Number)
        {
            // A fraction where an integer is wanted is left for validation to report, even out of range:
            // clamping 12.5 to 10 would accept what 7.5 is refused for.
            if (!value.TryGetValue<decimal>(out var number) || (types.WantsIntegerOnly && number != decimal.Truncate(number)))
            {
                return value;
            }

            JsonNode result = value;
            if (types.WantsIntegerOnly && number == decimal.Truncate(number) && !IsWrittenAsInteger(value))
            {
                // 7.0 where an integer is wanted: the same number, written so that every reader of the result,
                // not only a schema validator, sees an integer.
                result = Record(path, value, ToNumberNode(number));
            }

            return ClampToBounds(result, number, schema, path);
        }

        return value;
    }

    private JsonNode MatchEnumSpelling(JsonValue value, string text, JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("enum", out var allowed) || allowed.ValueKind != JsonValueKind.Array)
        {
            return value;
        }

        string? match = null;
        foreach (var option in allowed.EnumerateArray())
        {
            if (option.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if (option.ValueEquals(text))
            {
                return value;
            }

            var spelling = option.GetString()!;
            if (string.Equals(spelling, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                if (match is not null)
                {
                    // Two options differ only by case: the model's spelling cannot say which one it meant.
                    return value;
                }

                match = spelling;
            }
        }

        return match is null ? value : Record(path, value, JsonValue.Create(match));
    }

    /// <summary>
    /// Reads a string that is wholly a number. "7/10" and "7 out of 10" are read as 7 only when 10 is the schema's
    /// own maximum, that is when the model restated the scale it was given; any other denominator is a different
    /// scale, and guessing the conversion would put words in the model's mouth.
    /// </summary>
    private static decimal? ReadNumber(string text, JsonElement schema, bool integerWanted)
    {
        var trimmed = text.Trim();
        if (TryParseDecimal(trimmed, out var whole))
        {
            return FitsType(whole, integerWanted);
        }

        var separator = trimmed.IndexOf('/', StringComparison.Ordinal);
        var separatorLength = 1;
        if (separator < 0)
        {
            separator = trimmed.IndexOf(" out of ", StringComparison.OrdinalIgnoreCase);
            separatorLength = " out of ".Length;
        }

        if (separator <= 0
            || !TryParseDecimal(trimmed.AsSpan(0, separator).Trim(), out var numerator)
            || !TryParseDecimal(trimmed.AsSpan(separator + separatorLength).Trim(), out var denominator)
            || SchemaNavigator.Bound(schema, "maximum") is not { } maximum
            || denominator != maximum)
        {
            return null;
        }

        return FitsType(numerator, integerWanted);
    }

    private static decimal? FitsType(decimal number, bool integerWanted) =>
        !integerWanted || number == decimal.Truncate(number) ? number : null;

    private static bool TryParseDecimal(ReadOnlySpan<char> text, out decimal number) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number);

    private static bool? ReadBoolean(string text) => text.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "YES" => true,
        "FALSE" or "NO" => false,
        _ => null,
    };

    private bool WantsStringItems(JsonElement schema) =>
        schema.TryGetProperty("items", out var items)
        && SchemaNavigator.Types(_schemas.Resolve(items)).Allows(SchemaTypes.String);

    /// <summary>
    /// Moves a number outside <c>minimum</c>/<c>maximum</c> onto the nearer bound: a 12 on a 0–10 score is the
    /// model's emphasis, not a different answer, and asking again for it costs a whole call.
    /// </summary>
    private JsonNode ClampToBounds(JsonNode number, decimal value, JsonElement schema, string path)
    {
        var clamped = value;
        if (SchemaNavigator.Bound(schema, "maximum") is { } maximum && value > maximum)
        {
            clamped = maximum;
        }

        if (SchemaNavigator.Bound(schema, "minimum") is { } minimum && value < minimum)
        {
            clamped = minimum;
        }

        if (clamped == value)
        {
            return number;
        }

        var result = ToNumberNode(clamped);
        _coercions.Add($"{path}: {number.ToJsonString()} is out of range, clamped to {result.ToJsonString()}");
        return result;
    }

    // A parsed value knows how it was written, without serialising it again: "7" reads as an Int64, "7.0" does not.
    private static bool IsWrittenAsInteger(JsonValue value) =>
        value.TryGetValue<JsonElement>(out var element)
            ? element.TryGetInt64(out _)
            : value.ToJsonString().AsSpan().IndexOfAny(".eE") < 0;

    private static JsonValue ToNumberNode(decimal number) =>
        number == decimal.Truncate(number) && number is >= long.MinValue and <= long.MaxValue
            ? JsonValue.Create((long)number)
            : JsonValue.Create(number);

    private JsonNode Record(string path, JsonNode before, JsonNode after)
    {
        _coercions.Add($"{path}: {before.ToJsonString()} read as {after.ToJsonString()}");
        return after;
    }
}
