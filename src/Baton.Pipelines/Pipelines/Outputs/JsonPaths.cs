using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Pipelines.Outputs;

/// <summary>Builds the <c>$.a.b[2]</c> paths problems and coercions are reported at.</summary>
internal static class JsonPaths
{
    public const string Root = "$";

    public static string Property(string parent, string name) =>
        IsPlainName(name) ? $"{parent}.{name}" : $"{parent}[{JsonSerializer.Serialize(name)}]";

    public static string Index(string parent, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    /// <summary>
    /// Turns a JSON Pointer's segments (as the schema validator reports locations) into a path, reading the
    /// instance to tell an array index from a property whose name is a number.
    /// </summary>
    public static string FromSegments(IEnumerable<string> segments, JsonNode? instance)
    {
        var path = Root;
        var current = instance;
        foreach (var segment in segments)
        {
            if (current is JsonArray array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path = Index(path, index);
                current = index < array.Count ? array[index] : null;
            }
            else
            {
                path = Property(path, segment);
                current = current is JsonObject obj && obj.TryGetPropertyValue(segment, out var child) ? child : null;
            }
        }

        return path;
    }

    /// <summary>The unescaped segments of a JSON Pointer such as <c>/deployment_blockers/0/severity</c>.</summary>
    public static IReadOnlyList<string> PointerSegments(string pointer) =>
        pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(segment => segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))
            .ToList();

    private static bool IsPlainName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
