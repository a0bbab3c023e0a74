using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Pipelines.Outputs;

/// <summary>
/// Reads the JSON a pipeline step asked a model for out of the model's answer: reasoning blocks, code fences and
/// surrounding prose are set aside, safely equivalent spellings are coerced to the schema (<c>"7"</c> → 7,
/// <c>"yes"</c> → true), and the result is validated against the JSON Schema, every problem reported at its JSON path.
/// </summary>
/// <remarks>
/// An instance holds only the compiled schema and is safe to share between threads. Reading is deterministic and
/// does no I/O.
/// </remarks>
public sealed class JsonOutputReader
{
    private static readonly JsonSerializerOptions CompactJson = new() { WriteIndented = false };

    private readonly JsonElement? _schema;
    private readonly SchemaNavigator? _schemas;
    private readonly SchemaValidator? _validator;
    private readonly JsonRootKinds _roots;

    /// <summary>Creates a reader for answers that must match <paramref name="schema"/>.</summary>
    /// <param name="schema">A JSON Schema (draft 2020-12 or draft-07), or null to accept any JSON object or array.</param>
    /// <exception cref="ArgumentException">The schema is not a JSON object or boolean, cannot be built, or has a
    /// <c>$ref</c> into itself that points at nothing.</exception>
    public JsonOutputReader(JsonElement? schema)
    {
        if (schema is not { } element)
        {
            _roots = JsonRootKinds.Any;
            Instructions = DescribeInstructions(null, _roots);
            return;
        }

        if (element.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
        {
            throw new ArgumentException($"A JSON Schema is an object or a boolean, not {element.ValueKind}.", nameof(schema));
        }

        // A copy of its own: the caller's JsonDocument may be disposed while this reader lives on.
        element = element.Clone();
        _schema = element;
        _schemas = new SchemaNavigator(element);

        // The validator resolves references only when an answer reaches them; a typo in one should fail here,
        // where the schema is written, not on some later answer.
        if (_schemas.FirstBrokenLocalReference() is { } broken)
        {
            throw new ArgumentException($"The JSON Schema cannot be used: '{broken}' points at nothing in the schema.", nameof(schema));
        }

        try
        {
            _validator = new SchemaValidator(element, _schemas);
        }
        catch (Exception exception) when (exception is Json.Schema.JsonSchemaException or Json.Schema.RefResolutionException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"The JSON Schema cannot be used: {exception.Message}", nameof(schema), exception);
        }

        _roots = RootKinds(SchemaNavigator.Types(_schemas.Resolve(element)));
        Instructions = DescribeInstructions(_schema, _roots);
    }

    /// <summary>
    /// Text to append to a prompt: answer with only JSON, matching this schema (included compactly) when there is one.
    /// </summary>
    public string Instructions { get; }

    private static string DescribeInstructions(JsonElement? schema, JsonRootKinds roots)
    {
        if (schema is not { } given)
        {
            return "Answer with only a JSON object or array: no prose before or after it and no code fences.";
        }
        var what = roots == JsonRootKinds.Array ? "a JSON array" : "a JSON object";
        return $"Answer with only {what} that matches this JSON Schema: no prose before or after it and no code fences.\n" +
               "JSON Schema: " + JsonSerializer.Serialize(given, CompactJson);
    }

    /// <summary>Reads a model's answer into a validated JSON value, or into the problems that stop it being one.</summary>
    /// <param name="modelText">The model's whole answer, as it came.</param>
    /// <exception cref="InvalidOperationException">The schema refers to a schema outside itself, which is never fetched.</exception>
    public JsonOutputResult Read(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        var extractor = new JsonTextExtractor(_roots);

        // Candidates come in order of preference; the first that validates wins, and when none does the first
        // one's problems are the ones worth sending back.
        JsonOutputResult? firstInvalid = null;
        foreach (var candidate in extractor.Candidates(modelText))
        {
            var coercions = new List<string>();
            if (candidate.QuotesRepaired)
            {
                coercions.Add("$: typographic quotes read as plain double quotes");
            }

            var value = candidate.Value;
            if (_schemas is { } schemas)
            {
                var repairs = coercions.Count;
                value = new SchemaCoercer(schemas, coercions).Coerce(value, schemas.Root, JsonPaths.Root) ?? value;
                if (coercions.Count > repairs)
                {
                    // Coerced values are built from .NET numbers and booleans; parsed again they behave like every
                    // other parsed value (a 7 reads as int, long or decimal alike).
                    value = JsonNode.Parse(value.ToJsonString())!;
                }
            }

            var problems = _validator?.Validate(value) ?? [];
            var result = new JsonOutputResult(value, problems, coercions);
            if (result.IsValid)
            {
                return result;
            }

            firstInvalid ??= result;
        }

        return firstInvalid
            ?? new JsonOutputResult(null, [new JsonOutputProblem(JsonPaths.Root, extractor.NothingFoundMessage(modelText))], []);
    }

    private static JsonRootKinds RootKinds(SchemaTypes types)
    {
        var roots = (types.Allows(SchemaTypes.Object) ? JsonRootKinds.Object : 0) | (types.Allows(SchemaTypes.Array) ? JsonRootKinds.Array : 0);

        // A schema for a scalar root: still look for the object a model would wrap it in, and let validation say why it fails.
        return roots == 0 ? JsonRootKinds.Any : roots;
    }
}
