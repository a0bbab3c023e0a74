using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Baton.Pipelines;

/// <summary>
/// Reads a pipeline file (JSON, or YAML when its name ends in <c>.yaml</c>/<c>.yml</c>) and the prompt and
/// schema files it names, checking everything at once: unknown keys, steps without a model or task, missing
/// files, templates that refer to unknown steps, dependency cycles. Every problem is reported with its place.
/// </summary>
public static partial class PipelineLoader
{
    private static readonly string[] StepKeys =
    [
        "model", "task", "fallbacks", "prompt", "promptText", "system", "systemText", "output", "schema", "schemaFile",
        "responseFormat", "temperature", "maxTokens", "needs", "cacheKey", "fallback",
    ];

    private static readonly string[] RootKeys = ["name", "description", "version", "steps"];

    /// <summary>Loads a pipeline file; prompt and schema files are relative to its folder.</summary>
    /// <exception cref="PipelineDefinitionException">The file or one it names is missing or not valid.</exception>
    public static PipelineDefinition LoadFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new PipelineDefinitionException([$"the pipeline file '{path}' does not exist."]);
        }
        var folder = Path.GetDirectoryName(full)!;
        return Load(ReadText(full), full, name =>
        {
            var file = Path.GetFullPath(name, folder);
            return File.Exists(file) ? ReadText(file) : null;
        });
    }

    /// <summary>A file's text; a file that exists but cannot be read is a definition problem, not a crash.</summary>
    /// <exception cref="PipelineDefinitionException">The file cannot be read.</exception>
    public static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PipelineDefinitionException([$"'{path}' cannot be read: {ex.Message}"]);
        }
    }

    /// <summary>Loads a pipeline from text.</summary>
    /// <param name="text">The pipeline, JSON or YAML.</param>
    /// <param name="source">Its name; YAML when it ends in <c>.yaml</c> or <c>.yml</c>.</param>
    /// <param name="readFile">Reads a prompt or schema file the pipeline names; null when there is none.</param>
    public static PipelineDefinition Load(string text, string source, Func<string, string?> readFile)
    {
        var label = Path.GetFileName(source);
        JsonNode? root;
        try
        {
            root = source.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || source.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
                ? YamlJson.Parse(text)
                : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions
                {
                    AllowTrailingCommas = true,
                    CommentHandling = JsonCommentHandling.Skip,
                    // Two steps of one name would otherwise fail later, on first access, with an ArgumentException.
                    AllowDuplicateProperties = false,
                });
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw new PipelineDefinitionException([$"{label}: {ex.Message}"]);
        }
        if (root is not JsonObject definition)
        {
            throw new PipelineDefinitionException([$"{label}: a pipeline is an object with 'name' and 'steps'."]);
        }

        var errors = new List<string>();
        UnknownKeys(definition, RootKeys, label, errors);
        var name = String(definition, "name", label, errors);
        var description = String(definition, "description", label, errors);
        if (name is null || !StepName().IsMatch(name))
        {
            errors.Add($"{label}: 'name' is required: letters, digits, '-' and '_'.");
        }
        var steps = new List<PipelineStep>();
        if (definition["steps"] is not JsonObject stepNodes || stepNodes.Count == 0)
        {
            errors.Add($"{label}: 'steps' is required: an object of named steps.");
        }
        else
        {
            foreach (var (stepName, node) in stepNodes)
            {
                var step = ReadStep(stepName, node, $"{label}: steps.{stepName}", readFile, errors);
                if (step is not null)
                {
                    steps.Add(step);
                }
            }
            CheckDependencies(steps, label, errors);
            CheckOutputReferences(steps, label, errors);
            foreach (var step in steps.Where(s => s.Output == PipelineOutputKind.Json))
            {
                try
                {
                    _ = step.OutputReader;
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{label}: steps.{step.Name}.schema: {ex.Message}");
                }
            }
        }
        if (errors.Count > 0)
        {
            throw new PipelineDefinitionException(errors);
        }
        return new PipelineDefinition
        {
            Name = name!,
            Description = description,
            Version = definition["version"]?.ToString() ?? "1",
            Steps = steps,
            Source = source,
        };
    }

    private static PipelineStep? ReadStep(string name, JsonNode? node, string where, Func<string, string?> readFile, List<string> errors)
    {
        var before = errors.Count;
        if (!StepName().IsMatch(name))
        {
            errors.Add($"{where}: a step's name has only letters, digits, '-' and '_'.");
        }
        if (node is not JsonObject step)
        {
            errors.Add($"{where}: a step is an object with a 'model' or 'task' and a 'prompt'.");
            return null;
        }
        UnknownKeys(step, StepKeys, where, errors);
        var model = String(step, "model", where, errors);
        var task = String(step, "task", where, errors);
        if ((model is null) == (task is null))
        {
            errors.Add($"{where}: give either 'model' (a configured model) or 'task' (a task type routed to its tier).");
        }
        var prompt = Template(step, "prompt", "promptText", where, readFile, errors, required: true);
        var system = Template(step, "system", "systemText", where, readFile, errors, required: false);
        var cacheKey = step["cacheKey"] is null ? null : ParseTemplate(String(step, "cacheKey", where, errors) ?? "", $"{where}.cacheKey", errors);

        var output = String(step, "output", where, errors) ?? "text";
        if (output is not ("text" or "json"))
        {
            errors.Add($"{where}.output: '{output}' is not 'text' or 'json'.");
        }
        var schema = Schema(step, where, readFile, errors);
        if (schema is not null && output != "json")
        {
            errors.Add($"{where}: a 'schema' needs \"output\": \"json\".");
        }
        var fallback = step["fallback"] is { } fallbackNode ? JsonSerializer.SerializeToElement(fallbackNode) : (JsonElement?)null;
        if (fallback is { } value && output == "json" && value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}.fallback: for a JSON step, an object.");
        }

        var temperature = Number(step, "temperature", where, errors);
        if (temperature is < 0 or > 2)
        {
            errors.Add($"{where}.temperature: between 0 and 2.");
        }
        var maxTokens = Number(step, "maxTokens", where, errors);
        if (maxTokens is not null && (maxTokens < 1 || maxTokens != Math.Floor(maxTokens.Value)))
        {
            errors.Add($"{where}.maxTokens: a whole number, at least 1.");
        }
        var useResponseFormat = true;
        if (step["responseFormat"] is { } format)
        {
            if (format.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add($"{where}.responseFormat: true or false.");
            }
            else
            {
                useResponseFormat = format.GetValue<bool>();
            }
        }

        var needs = Strings(step, "needs", where, errors);
        foreach (var template in new[] { prompt, system }.OfType<PromptTemplate>())
        {
            foreach (var placeholder in template.Placeholders)
            {
                if (placeholder.StartsWith("steps.", StringComparison.Ordinal))
                {
                    needs.Add(placeholder.Split('.')[1]);
                }
            }
        }
        if (cacheKey?.Placeholders.Any(p => p.StartsWith("steps.", StringComparison.Ordinal)) == true)
        {
            errors.Add($"{where}.cacheKey: reads the run's input only (the dependencies' results are part of the key already).");
        }
        if (errors.Count > before)
        {
            return null;
        }
        return new PipelineStep
        {
            Name = name,
            Model = model,
            Task = task,
            Fallbacks = Strings(step, "fallbacks", where, errors),
            Prompt = prompt!,
            System = system,
            Output = output == "json" ? PipelineOutputKind.Json : PipelineOutputKind.Text,
            Schema = schema,
            UseResponseFormat = useResponseFormat,
            Temperature = temperature,
            MaxTokens = maxTokens is double max ? (int)max : null,
            Needs = needs.Distinct(StringComparer.Ordinal).ToList(),
            CacheKey = cacheKey,
            Fallback = fallback,
        };
    }

    private static PromptTemplate? Template(JsonObject step, string fileKey, string textKey, string where, Func<string, string?> readFile,
        List<string> errors, bool required)
    {
        var file = String(step, fileKey, where, errors);
        var text = String(step, textKey, where, errors);
        if (file is not null && text is not null)
        {
            errors.Add($"{where}: give '{fileKey}' (a file) or '{textKey}' (the text), not both.");
            return null;
        }
        if (file is null && text is null)
        {
            if (required)
            {
                errors.Add($"{where}: '{fileKey}' (a template file) or '{textKey}' (the template itself) is required.");
            }
            return null;
        }
        if (file is not null)
        {
            text = readFile(file);
            if (text is null)
            {
                errors.Add($"{where}.{fileKey}: the file '{file}' does not exist.");
                return null;
            }
        }
        return ParseTemplate(text!, file ?? $"{where}.{textKey}", errors);
    }

    private static PromptTemplate? ParseTemplate(string text, string source, List<string> errors)
    {
        try
        {
            return PromptTemplate.Parse(text, source);
        }
        catch (FormatException ex)
        {
            errors.Add(ex.Message);
            return null;
        }
    }

    private static JsonElement? Schema(JsonObject step, string where, Func<string, string?> readFile, List<string> errors)
    {
        var file = String(step, "schemaFile", where, errors);
        if (file is not null && step["schema"] is not null)
        {
            errors.Add($"{where}: give 'schema' or 'schemaFile', not both.");
            return null;
        }
        JsonNode? schema = step["schema"];
        if (file is not null)
        {
            var text = readFile(file);
            if (text is null)
            {
                errors.Add($"{where}.schemaFile: the file '{file}' does not exist.");
                return null;
            }
            try
            {
                schema = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
            }
            catch (JsonException ex)
            {
                errors.Add($"{where}.schemaFile: '{file}' is not valid JSON: {ex.Message}");
                return null;
            }
        }
        if (schema is null)
        {
            return null;
        }
        if (schema is not JsonObject)
        {
            errors.Add($"{where}.schema: a JSON Schema is an object.");
            return null;
        }
        return JsonSerializer.SerializeToElement(schema);
    }

    private static void CheckDependencies(List<PipelineStep> steps, string label, List<string> errors)
    {
        var names = steps.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            foreach (var need in step.Needs.Where(n => !names.Contains(n)))
            {
                errors.Add($"{label}: steps.{step.Name} uses the step '{need}', which the pipeline does not have.");
            }
            if (step.Needs.Contains(step.Name))
            {
                errors.Add($"{label}: steps.{step.Name} uses its own output.");
            }
        }
        if (errors.Count > 0)
        {
            return;
        }
        // Depth-first search: a step met again while its own dependencies are being visited closes a cycle.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var byName = steps.ToDictionary(s => s.Name, StringComparer.Ordinal);
        bool Visit(string name, Stack<string> path)
        {
            if (state.GetValueOrDefault(name) == 2)
            {
                return true;
            }
            if (state.GetValueOrDefault(name) == 1)
            {
                errors.Add($"{label}: the steps depend on each other in a cycle: {string.Join(" -> ", path.Reverse().SkipWhile(n => n != name))} -> {name}.");
                return false;
            }
            state[name] = 1;
            path.Push(name);
            var ok = byName[name].Needs.All(need => Visit(need, path));
            path.Pop();
            state[name] = 2;
            return ok;
        }
        foreach (var step in steps)
        {
            if (!Visit(step.Name, new Stack<string>()))
            {
                return;
            }
        }
    }

    /// <summary>A text step's output is a string: a placeholder into a field of it can never be filled.</summary>
    private static void CheckOutputReferences(List<PipelineStep> steps, string label, List<string> errors)
    {
        var textSteps = steps.Where(s => s.Output == PipelineOutputKind.Text).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            foreach (var placeholder in new[] { step.Prompt, step.System }.OfType<PromptTemplate>().SelectMany(t => t.Placeholders))
            {
                var parts = placeholder.Split('.');
                if (parts.Length > 2 && parts[0] == "steps" && textSteps.Contains(parts[1]))
                {
                    errors.Add($"{label}: steps.{step.Name} uses {{{{{placeholder}}}}}, but the step '{parts[1]}' answers text, which has no fields.");
                }
            }
        }
    }

    private static void UnknownKeys(JsonObject node, string[] known, string where, List<string> errors)
    {
        foreach (var (key, _) in node)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                errors.Add($"{where}: unknown key '{key}' (known: {string.Join(", ", known)}).");
            }
        }
    }

    private static string? String(JsonObject node, string key, string where, List<string> errors)
    {
        var value = node[key];
        if (value is null)
        {
            return null;
        }
        if (value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number)
        {
            return value.ToString();
        }
        errors.Add($"{where}.{key}: a string.");
        return null;
    }

    private static double? Number(JsonObject node, string key, string where, List<string> errors)
    {
        var value = node[key];
        if (value is null)
        {
            return null;
        }
        if (value.GetValueKind() == JsonValueKind.Number)
        {
            return double.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        }
        errors.Add($"{where}.{key}: a number.");
        return null;
    }

    private static List<string> Strings(JsonObject node, string key, string where, List<string> errors)
    {
        var value = node[key];
        if (value is null)
        {
            return [];
        }
        if (value is JsonArray array && array.All(item => item?.GetValueKind() == JsonValueKind.String))
        {
            return array.Select(item => item!.GetValue<string>()).ToList();
        }
        errors.Add($"{where}.{key}: a list of names.");
        return [];
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex StepName();
}
