using System.Collections.Concurrent;
using System.Text.Json;

namespace Baton.Pipelines.Outputs;

/// <summary>The JSON types a schema's <c>type</c> keyword allows; every type when the keyword is absent.</summary>
internal readonly record struct SchemaTypes(SchemaTypes.Kinds Allowed)
{
    [Flags]
    internal enum Kinds
    {
        None = 0,
        String = 1,
        Number = 2,
        Integer = 4,
        Boolean = 8,
        Object = 16,
        Array = 32,
        Null = 64,
        All = String | Number | Integer | Boolean | Object | Array | Null,
    }

    public const Kinds String = Kinds.String;
    public const Kinds Number = Kinds.Number;
    public const Kinds Integer = Kinds.Integer;
    public const Kinds Boolean = Kinds.Boolean;
    public const Kinds Object = Kinds.Object;
    public const Kinds Array = Kinds.Array;

    /// <summary>True when a value of <paramref name="kind"/> may stand here; an integer is also a number.</summary>
    public bool Allows(Kinds kind) =>
        kind == Kinds.Number ? (Allowed & (Kinds.Number | Kinds.Integer)) != 0 : (Allowed & kind) != 0;

    /// <summary>True when numbers are allowed here only as integers.</summary>
    public bool WantsIntegerOnly => (Allowed & Kinds.Integer) != 0 && (Allowed & Kinds.Number) == 0;

    public static Kinds Parse(string? name) => name switch
    {
        "string" => Kinds.String,
        "number" => Kinds.Number,
        "integer" => Kinds.Integer,
        "boolean" => Kinds.Boolean,
        "object" => Kinds.Object,
        "array" => Kinds.Array,
        "null" => Kinds.Null,
        _ => Kinds.None,
    };
}

/// <summary>
/// Reads the few schema keywords that coercion and error messages need, following local <c>$ref</c>s
/// (<c>#/$defs/…</c>, <c>#/definitions/…</c>) within the one schema document.
/// </summary>
internal sealed class SchemaNavigator
{
    // A $ref chain longer than this is a cycle; stop following it rather than loop.
    private const int MaxReferenceHops = 32;

    private readonly JsonElement _root;

    // Resolved once per distinct reference: every item of a long array would otherwise walk the same pointer.
    private readonly ConcurrentDictionary<string, JsonElement?> _references = new(StringComparer.Ordinal);

    public SchemaNavigator(JsonElement root) => _root = root;

    public JsonElement Root => _root;

    /// <summary>The first <c>$ref</c> written as a JSON Pointer into this document (<c>#/…</c>) that points at nothing, or null.</summary>
    public string? FirstBrokenLocalReference() => FirstBrokenLocalReference(_root);

    private string? FirstBrokenLocalReference(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("$ref")
                        && property.Value.ValueKind == JsonValueKind.String
                        && property.Value.GetString() is { } reference
                        && reference.StartsWith("#/", StringComparison.Ordinal)
                        && Follow(reference) is null)
                    {
                        return reference;
                    }

                    if (FirstBrokenLocalReference(property.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstBrokenLocalReference(item) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>The schema itself, or what its local <c>$ref</c> points to.</summary>
    public JsonElement Resolve(JsonElement schema)
    {
        for (var hop = 0; hop < MaxReferenceHops; hop++)
        {
            if (schema.ValueKind != JsonValueKind.Object
                || !schema.TryGetProperty("$ref", out var reference)
                || reference.ValueKind != JsonValueKind.String
                || _references.GetOrAdd(reference.GetString()!, Follow) is not { } target)
            {
                return schema;
            }

            schema = target;
        }

        return schema;
    }

    /// <summary>The schema a property named <paramref name="name"/> must match, or null when the schema says nothing.</summary>
    public JsonElement? PropertySchema(JsonElement schema, string name)
    {
        schema = Resolve(schema);
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (schema.TryGetProperty("properties", out var properties)
            && properties.ValueKind == JsonValueKind.Object
            && properties.TryGetProperty(name, out var property))
        {
            return property;
        }

        if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
        {
            return additional;
        }

        return null;
    }

    /// <summary>The schema items of an array must match, or null.</summary>
    public JsonElement? ItemSchema(JsonElement schema)
    {
        schema = Resolve(schema);
        return schema.ValueKind == JsonValueKind.Object
            && schema.TryGetProperty("items", out var items)
            && items.ValueKind == JsonValueKind.Object
                ? items
                : null;
    }

    /// <summary>Walks from the root along an instance path (property names and indexes) to the schema that governs it.</summary>
    public JsonElement? SchemaAt(IReadOnlyList<string> segments)
    {
        JsonElement? current = _root;
        foreach (var segment in segments)
        {
            if (current is not { } schema)
            {
                return null;
            }

            var resolved = Resolve(schema);
            var isArray = Types(resolved).Allows(SchemaTypes.Array) && int.TryParse(segment, out _)
                && resolved.TryGetProperty("items", out _);
            current = isArray ? ItemSchema(resolved) : PropertySchema(resolved, segment);
        }

        return current is { } found ? Resolve(found) : null;
    }

    public static SchemaTypes Types(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type))
        {
            return new SchemaTypes(SchemaTypes.Kinds.All);
        }

        if (type.ValueKind == JsonValueKind.String)
        {
            return new SchemaTypes(SchemaTypes.Parse(type.GetString()));
        }

        var allowed = SchemaTypes.Kinds.None;
        if (type.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in type.EnumerateArray())
            {
                allowed |= name.ValueKind == JsonValueKind.String ? SchemaTypes.Parse(name.GetString()) : SchemaTypes.Kinds.None;
            }
        }

        return new SchemaTypes(allowed == SchemaTypes.Kinds.None ? SchemaTypes.Kinds.All : allowed);
    }

    /// <summary>A numeric keyword such as <c>minimum</c>, or null when absent or not a number.</summary>
    public static decimal? Bound(JsonElement schema, string keyword) =>
        schema.ValueKind == JsonValueKind.Object
        && schema.TryGetProperty(keyword, out var bound)
        && bound.ValueKind == JsonValueKind.Number
        && bound.TryGetDecimal(out var value)
            ? value
            : null;

    private JsonElement? Follow(string reference)
    {
        if (!reference.StartsWith('#'))
        {
            return null;
        }

        var current = _root;
        foreach (var rawSegment in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(rawSegment).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }
}
