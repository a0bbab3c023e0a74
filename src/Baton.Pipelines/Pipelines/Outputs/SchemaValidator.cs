using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Baton.Pipelines.Outputs;

/// <summary>
/// Validates an answer with JsonSchema.Net and turns its findings into problems a model can act on: each at the
/// JSON path of the offending value, worded from the schema ("must be an integer between 0 and 10, got \"high\"")
/// rather than from the validator's generic messages where the schema allows it.
/// </summary>
internal sealed class SchemaValidator
{
    // Most answers are valid: the pass/fail evaluation is cheaper, and the detailed one runs only to explain a failure.
    private static readonly EvaluationOptions FlagOutput = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions DetailedOutput = new() { OutputFormat = OutputFormat.Hierarchical };

    // Keywords under which a subschema's failure is not the value's failure (a failed anyOf branch when another
    // passed), or under which the schema found by following the instance path is not the one that failed.
    private static readonly string[] Combinators = ["/anyOf/", "/oneOf/", "/allOf/", "/not", "/if", "/then", "/else"];

    private readonly JsonSchema _schema;
    private readonly SchemaNavigator _schemas;

    public SchemaValidator(JsonElement schema, SchemaNavigator schemas)
    {
        // A registry of its own: building into the global one would keep every reader's schema alive for the
        // life of the process.
        _schema = JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        _schemas = schemas;
    }

    public IReadOnlyList<JsonOutputProblem> Validate(JsonNode value)
    {
        using var document = JsonDocument.Parse(value.ToJsonString());
        if (Evaluate(document.RootElement, FlagOutput).IsValid)
        {
            return [];
        }

        var results = Evaluate(document.RootElement, DetailedOutput);

        var problems = new List<JsonOutputProblem>();
        foreach (var node in Flatten(results))
        {
            if (node.Errors is not { Count: > 0 } errors)
            {
                continue;
            }

            var segments = JsonPaths.PointerSegments(node.InstanceLocation.ToString());
            var path = JsonPaths.FromSegments(segments, value);
            var instance = Find(value, segments);
            var underCombinator = Combinators.Any(combinator => node.EvaluationPath.ToString().Contains(combinator, StringComparison.Ordinal));
            foreach (var (keyword, message) in errors)
            {
                var described = underCombinator ? [new JsonOutputProblem(path, LowerFirst(message))] : Describe(keyword, message, path, segments, instance);
                foreach (var problem in described)
                {
                    if (!problems.Contains(problem))
                    {
                        problems.Add(problem);
                    }
                }
            }
        }

        if (problems.Count == 0)
        {
            // The validator failed the value without naming a keyword (a false schema, say): still say so.
            problems.Add(new JsonOutputProblem(JsonPaths.Root, "the answer does not match the schema"));
        }

        return problems;
    }

    private EvaluationResults Evaluate(JsonElement instance, EvaluationOptions options)
    {
        try
        {
            return _schema.Evaluate(instance, options);
        }
        catch (RefResolutionException exception)
        {
            // A schema fault, not the model's: nothing the model writes can fix it, so it is not a problem to re-ask with.
            throw new InvalidOperationException(
                $"The JSON Schema refers to a schema outside itself, which the reader does not fetch: {exception.Message}", exception);
        }
    }

    /// <summary>The failed nodes of the result tree; a passing node's subtree holds no failure of the answer.</summary>
    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults results)
    {
        if (results.IsValid)
        {
            yield break;
        }

        yield return results;
        if (results.Details is null)
        {
            yield break;
        }

        foreach (var detail in results.Details)
        {
            foreach (var nested in Flatten(detail))
            {
                yield return nested;
            }
        }
    }

    private IEnumerable<JsonOutputProblem> Describe(string keyword, string message, string path, IReadOnlyList<string> segments, JsonNode? instance)
    {
        var schema = _schemas.SchemaAt(segments);
        switch (keyword)
        {
            case "required" or "additionalProperties" when instance is JsonObject obj && schema is { } objectSchema:
                var required = keyword == "required";
                var names = (required ? MissingProperties(obj, objectSchema) : ExtraProperties(obj, objectSchema)).ToList();
                if (names.Count > 0)
                {
                    foreach (var name in names)
                    {
                        yield return new JsonOutputProblem(JsonPaths.Property(path, name),
                            required ? $"required property '{name}' is missing" : $"property '{name}' is not allowed here");
                    }

                    yield break;
                }

                break;

            case "type" or "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum" or "enum" or "const" when schema is { } valueSchema:
                yield return new JsonOutputProblem(path, $"must be {Expectation(valueSchema)}, got {Show(instance)}");
                yield break;

            case "minItems" or "maxItems" when schema is { } arraySchema && instance is JsonArray array:
                yield return new JsonOutputProblem(path, $"must be {Expectation(arraySchema)}, got {Count(array.Count, "item")}");
                yield break;
        }

        if (IsDisallowedProperty(segments))
        {
            // additionalProperties: false fails the property itself against the "false" schema, whose own message
            // ("all values fail against the false schema") says nothing a model could act on.
            yield return new JsonOutputProblem(path, $"property '{segments[^1]}' is not allowed here");
            yield break;
        }

        yield return new JsonOutputProblem(path, LowerFirst(message));
    }

    private bool IsDisallowedProperty(IReadOnlyList<string> segments)
    {
        if (segments.Count == 0 || _schemas.SchemaAt(segments.Take(segments.Count - 1).ToList()) is not { } parent)
        {
            return false;
        }

        var declared = parent.TryGetProperty("properties", out var properties)
            && properties.ValueKind == JsonValueKind.Object
            && properties.TryGetProperty(segments[^1], out _);
        return !declared
            && parent.TryGetProperty("additionalProperties", out var additional)
            && additional.ValueKind == JsonValueKind.False;
    }

    private static IEnumerable<string> MissingProperties(JsonObject obj, JsonElement schema)
    {
        if (!schema.TryGetProperty("required", out var required) || required.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var name in required.EnumerateArray())
        {
            if (name.ValueKind == JsonValueKind.String && !obj.ContainsKey(name.GetString()!))
            {
                yield return name.GetString()!;
            }
        }
    }

    private static IEnumerable<string> ExtraProperties(JsonObject obj, JsonElement schema)
    {
        var declared = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            ? properties.EnumerateObject().Select(property => property.Name).ToHashSet(StringComparer.Ordinal)
            : [];
        return obj.Select(property => property.Key).Where(name => !declared.Contains(name));
    }

    /// <summary>What the schema wants here, in words: "an integer between 0 and 10", "one of \"low\", \"high\"".</summary>
    internal static string Expectation(JsonElement schema)
    {
        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array)
        {
            return "one of " + string.Join(", ", options.EnumerateArray().Select(option => option.GetRawText()));
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return "exactly " + constant.GetRawText();
        }

        var types = SchemaNavigator.Types(schema).Allowed;
        var names = new List<string>();
        foreach (var (kind, name) in TypeNames)
        {
            if ((types & kind) != 0 && !(kind == SchemaTypes.Kinds.Integer && (types & SchemaTypes.Kinds.Number) != 0))
            {
                names.Add(name);
            }
        }

        var description = types == SchemaTypes.Kinds.All ? "a value" : string.Join(" or ", names);
        var minimum = SchemaNavigator.Bound(schema, "minimum");
        var maximum = SchemaNavigator.Bound(schema, "maximum");
        var minItems = SchemaNavigator.Bound(schema, "minItems");
        var maxItems = SchemaNavigator.Bound(schema, "maxItems");
        return (minimum, maximum, minItems, maxItems) switch
        {
            ({ } low, { } high, _, _) => $"{description} between {Number(low)} and {Number(high)}",
            ({ } low, null, _, _) => $"{description} of at least {Number(low)}",
            (null, { } high, _, _) => $"{description} of at most {Number(high)}",
            (_, _, { } fewest, { } most) => $"{description} of {Number(fewest)} to {Number(most)} items",
            (_, _, { } fewest, null) => $"{description} of at least {Count(fewest, "item")}",
            (_, _, null, { } most) => $"{description} of at most {Count(most, "item")}",
            _ => description,
        };
    }

    private static readonly (SchemaTypes.Kinds Kind, string Name)[] TypeNames =
    [
        (SchemaTypes.Kinds.Object, "an object"),
        (SchemaTypes.Kinds.Array, "an array"),
        (SchemaTypes.Kinds.String, "a string"),
        (SchemaTypes.Kinds.Integer, "an integer"),
        (SchemaTypes.Kinds.Number, "a number"),
        (SchemaTypes.Kinds.Boolean, "a boolean"),
        (SchemaTypes.Kinds.Null, "null"),
    ];

    private static JsonNode? Find(JsonNode? root, IReadOnlyList<string> segments)
    {
        var current = root;
        foreach (var segment in segments)
        {
            current = current switch
            {
                JsonArray array when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count => array[index],
                JsonObject obj when obj.TryGetPropertyValue(segment, out var child) => child,
                _ => null,
            };
        }

        return current;
    }

    // Long values are cut: the model needs to recognise its value, not to read it back whole.
    private static string Show(JsonNode? instance)
    {
        var json = instance?.ToJsonString() ?? "null";
        return json.Length <= 80 ? json : string.Concat(json.AsSpan(0, 80), "…");
    }

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Count(decimal count, string noun) => count == 1 ? $"1 {noun}" : $"{Number(count)} {noun}s";

    private static string LowerFirst(string message) =>
        message.Length > 0 && char.IsUpper(message[0]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;
}
