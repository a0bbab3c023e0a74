using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Pipelines;

/// <summary>
/// A prompt with <c>{{ path }}</c> placeholders filled from a run: <c>{{ project.name }}</c> reads the run's
/// input, <c>{{ steps.architect }}</c> another step's output (<c>{{ steps.architect.design_patterns }}</c> a part
/// of it). Strings are inserted as they are, anything else as indented JSON. Single braces are plain text, so
/// prompts can show JSON examples. A placeholder the run cannot fill is an error that names it.
/// </summary>
public sealed class PromptTemplate
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly List<Segment> _segments;

    private PromptTemplate(string text, string source, List<Segment> segments)
    {
        Text = text;
        Source = source;
        _segments = segments;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>Where it came from (a file name), for messages.</summary>
    public string Source { get; }

    /// <summary>Every placeholder's path, in order of appearance.</summary>
    public IEnumerable<string> Placeholders => _segments.Where(s => s.IsPlaceholder).Select(s => s.Value);

    /// <exception cref="FormatException">A <c>{{</c> without its <c>}}</c>, or an empty placeholder.</exception>
    public static PromptTemplate Parse(string text, string source)
    {
        var segments = new List<Segment>();
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                segments.Add(new Segment(text[position..], false));
                break;
            }
            if (open > position)
            {
                segments.Add(new Segment(text[position..open], false));
            }
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"{source}: '{{{{' at line {LineOf(text, open)} has no closing '}}}}'.");
            }
            var path = text[(open + 2)..close].Trim();
            if (path.Length == 0 || path.Contains('\n', StringComparison.Ordinal))
            {
                throw new FormatException($"{source}: the placeholder at line {LineOf(text, open)} is empty or spans lines.");
            }
            segments.Add(new Segment(path, true));
            position = close + 2;
        }
        return new PromptTemplate(text, source, segments);
    }

    /// <summary>The placeholders that <paramref name="values"/> cannot fill.</summary>
    public IReadOnlyList<string> Missing(JsonObject values) =>
        Placeholders.Where(path => !TryResolve(values, path, out _)).Distinct(StringComparer.Ordinal).ToList();

    /// <exception cref="PipelineInputException">A placeholder has no value in <paramref name="values"/>.</exception>
    public string Render(JsonObject values)
    {
        var text = new StringBuilder();
        foreach (var segment in _segments)
        {
            if (!segment.IsPlaceholder)
            {
                text.Append(segment.Value);
                continue;
            }
            if (!TryResolve(values, segment.Value, out var value))
            {
                throw new PipelineInputException([$"{Source}: the placeholder {{{{{segment.Value}}}}} has no value in the run's input."]);
            }
            text.Append(value switch
            {
                null => "null",
                JsonValue scalar when scalar.GetValueKind() == JsonValueKind.String => scalar.GetValue<string>(),
                _ => value.ToJsonString(Indented),
            });
        }
        return text.ToString();
    }

    private static bool TryResolve(JsonObject root, string path, out JsonNode? value)
    {
        JsonNode? current = root;
        foreach (var part in path.Split('.'))
        {
            switch (current)
            {
                case JsonObject obj when obj.TryGetPropertyValue(part, out var child):
                    current = child;
                    break;
                case JsonArray array when int.TryParse(part, out var index) && index >= 0 && index < array.Count:
                    current = array[index];
                    break;
                default:
                    value = null;
                    return false;
            }
        }
        value = current;
        return true;
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    private readonly record struct Segment(string Value, bool IsPlaceholder);
}
