using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Pipelines.Outputs;

/// <summary>Which JSON roots the schema accepts, so that the scan looks for the right opening bracket.</summary>
[Flags]
internal enum JsonRootKinds
{
    Object = 1,
    Array = 2,
    Any = Object | Array,
}

/// <summary>A JSON value found in an answer, and whether typographic quotes had to be made plain to parse it.</summary>
internal readonly record struct ExtractedJson(JsonNode Value, bool QuotesRepaired);

/// <summary>
/// Finds the JSON in a model's free-form answer: reasoning blocks removed, fenced blocks preferred, otherwise the
/// balanced top-level objects (or arrays) of the text in order. Everything is plain scanning with no regular
/// expressions, and the scanning and failed parses together are held to a few passes over the text whatever it holds.
/// </summary>
internal sealed class JsonTextExtractor
{
    // How many balanced spans the scan tries to parse before giving up. Prose braces such as "{name}" fail to
    // parse at their first character, so this is generous; it only bounds pathological answers.
    private const int MaxScannedCandidates = 1024;

    // The bracket matching and the failed parses may read each character of the answer this many times over in
    // all: unbalanced openers each scan to the end of the text, and without a budget "{"a": {"a": …" would take
    // quadratic time.
    private const int ScanBudgetPerCharacter = 8;

    private const int MaxQuotedAnswerLength = 200;

    // The quote goes back to a model and into logs as text, not into HTML: apostrophes and non-ASCII stay readable.
    private static readonly JsonSerializerOptions ReadableQuoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonDocumentOptions TolerantParsing = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    private readonly JsonRootKinds _roots;

    public JsonTextExtractor(JsonRootKinds roots) => _roots = roots;

    /// <summary>
    /// The parsed candidates in order of preference: fenced blocks first, then balanced spans of the text. When the
    /// text without its reasoning holds none, the whole text is searched, in case what looked like a reasoning tag
    /// was part of the answer.
    /// </summary>
    public IEnumerable<ExtractedJson> Candidates(string modelText)
    {
        var text = modelText.TrimStart('\uFEFF');
        var withoutReasoning = StripReasoning(text);
        var found = false;
        foreach (var candidate in CandidatesIn(withoutReasoning))
        {
            found = true;
            yield return candidate;
        }

        if (found || withoutReasoning.Length == text.Length)
        {
            yield break;
        }

        foreach (var candidate in CandidatesIn(text))
        {
            yield return candidate;
        }
    }

    private IEnumerable<ExtractedJson> CandidatesIn(string text)
    {
        var foundFenced = false;
        foreach (var fenced in FencedBlocks(text))
        {
            if (TryParse(fenced.Trim().TrimStart('\uFEFF')) is { } found && AcceptsRoot(found.Value))
            {
                foundFenced = true;
                yield return found;
            }
        }

        if (foundFenced)
        {
            yield break;
        }

        var scanned = 0;
        var position = 0;
        var budget = (long)ScanBudgetPerCharacter * text.Length;
        while (scanned < MaxScannedCandidates && FindBalancedSpan(text, position, ref budget) is { } span)
        {
            scanned++;
            if (TryParse(text.Substring(span.Start, span.Length)) is { } found && AcceptsRoot(found.Value))
            {
                yield return found;

                // Nested objects of an accepted span are parts of it, not further candidates.
                position = span.Start + span.Length;
            }
            else
            {
                // A span that looked like JSON but does not parse is a broken answer: an object nested inside it
                // is a fragment, and returning the fragment would pass off part of the answer as the whole.
                budget -= span.Length;
                position = span.Start + span.Length;
            }
        }
    }

    /// <summary>The problem message when no candidate parsed, quoting the start of the answer.</summary>
    public string NothingFoundMessage(string modelText)
    {
        var what = _roots switch
        {
            JsonRootKinds.Array => "JSON array",
            JsonRootKinds.Object => "JSON object",
            _ => "JSON object or array",
        };
        var trimmed = modelText.Trim();
        if (trimmed.Length == 0)
        {
            return $"no {what} was found: the answer is empty";
        }

        var quoted = trimmed.Length <= MaxQuotedAnswerLength ? trimmed : string.Concat(trimmed.AsSpan(0, MaxQuotedAnswerLength), "…");
        return $"no {what} was found in the answer, which begins: {JsonSerializer.Serialize(quoted, ReadableQuoting)}";
    }

    private bool AcceptsRoot(JsonNode node) => node switch
    {
        JsonObject => (_roots & JsonRootKinds.Object) != 0,
        JsonArray => (_roots & JsonRootKinds.Array) != 0,
        _ => false,
    };

    /// <summary>
    /// Removes the <c>&lt;think&gt;</c>/<c>&lt;thinking&gt;</c> blocks an answer opens with: their braces and sample
    /// JSON are the model's drafts, not its answer. Only leading blocks go, so a tag quoted inside the answer's own
    /// strings is left as written. A closing tag with no opening one before it (chat templates that open the block
    /// for the model) drops everything up to it; an unclosed block drops text up to the first bracket after the tag.
    /// </summary>
    internal static string StripReasoning(string text)
    {
        var position = 0;
        var firstClose = IndexOfClosingTag(text, 0, out var firstCloseLength);
        var firstOpen = IndexOfOpeningTag(text, 0, out _);
        if (firstClose >= 0 && (firstOpen < 0 || firstOpen > firstClose))
        {
            position = firstClose + firstCloseLength;
        }

        while (true)
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }

            if (IndexOfOpeningTag(text, position, out var openLength) != position)
            {
                return text[position..];
            }

            var close = IndexOfClosingTag(text, position + openLength, out var closeLength);
            if (close >= 0)
            {
                position = close + closeLength;
                continue;
            }

            var bracket = text.AsSpan(position + openLength).IndexOfAny('{', '[');
            return bracket < 0 ? string.Empty : text[(position + openLength + bracket)..];
        }
    }

    private static int IndexOfOpeningTag(string text, int start, out int length) => IndexOfTag(text, start, "<think", out length);

    private static int IndexOfClosingTag(string text, int start, out int length) => IndexOfTag(text, start, "</think", out length);

    /// <summary>
    /// The next <c>&lt;think&gt;</c> or <c>&lt;thinking&gt;</c> (with <paramref name="prefix"/> saying opening or
    /// closing), found with one pass over the text for the shared prefix rather than one per spelling.
    /// </summary>
    private static int IndexOfTag(string text, int start, string prefix, out int length)
    {
        while (start < text.Length)
        {
            var found = text.IndexOf(prefix, start, StringComparison.OrdinalIgnoreCase);
            if (found < 0)
            {
                break;
            }

            var rest = text.AsSpan(found + prefix.Length);
            if (rest.StartsWith(">"))
            {
                length = prefix.Length + 1;
                return found;
            }

            if (rest.StartsWith("ing>", StringComparison.OrdinalIgnoreCase))
            {
                length = prefix.Length + 4;
                return found;
            }

            start = found + prefix.Length;
        }

        length = 0;
        return -1;
    }

    /// <summary>The contents of the Markdown code fences whose language is empty or a JSON dialect, in order.</summary>
    internal static IEnumerable<string> FencedBlocks(string text)
    {
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("```", position, StringComparison.Ordinal);
            if (open < 0)
            {
                yield break;
            }

            var lineEnd = text.IndexOf('\n', open + 3);
            if (lineEnd < 0)
            {
                yield break;
            }

            var language = text.AsSpan(open + 3, lineEnd - open - 3).Trim();
            var close = text.IndexOf("```", lineEnd + 1, StringComparison.Ordinal);
            if (close < 0)
            {
                // An unterminated fence (a cut-off answer) still holds the JSON, if anything does.
                close = text.Length;
            }

            if (language.IsEmpty || language.StartsWith("json", StringComparison.OrdinalIgnoreCase))
            {
                yield return text.Substring(lineEnd + 1, close - lineEnd - 1);
            }

            position = close + 3;
        }
    }

    /// <summary>
    /// The first span from <paramref name="start"/> that opens with an accepted bracket and closes with its match,
    /// skipping brackets inside strings (escapes respected). Null when the text holds none.
    /// </summary>
    private (int Start, int Length)? FindBalancedSpan(string text, int start, ref long budget)
    {
        var openers = _roots switch
        {
            JsonRootKinds.Object => "{",
            JsonRootKinds.Array => "[",
            _ => "{[",
        };

        while (start < text.Length)
        {
            var open = text.AsSpan(start).IndexOfAny(openers);
            if (open < 0)
            {
                return null;
            }

            open += start;
            if (!CouldStartJson(text, open))
            {
                start = open + 1;
                continue;
            }

            var end = MatchingBracket(text, open, ref budget);
            if (end >= 0)
            {
                return (open, end - open + 1);
            }

            if (budget <= 0)
            {
                return null;
            }

            // Unbalanced from here to the end: an inner opener may still start a complete value.
            start = open + 1;
        }

        return null;
    }

    /// <summary>
    /// Whether what follows an opener can begin JSON (or an attempt at it): prose such as "{name}" or
    /// "[see above]" cannot, and is skipped without the cost of a failed parse.
    /// </summary>
    private static bool CouldStartJson(string text, int open)
    {
        var next = open + 1;
        while (next < text.Length && char.IsWhiteSpace(text[next]))
        {
            next++;
        }

        if (next == text.Length)
        {
            return false;
        }

        // Single quotes never parse, but a Python-style dict is an attempt at the answer, not prose: it is
        // tried (and fails) as a whole, so that no fragment nested inside it is taken for the answer.
        var c = text[next];
        return text[open] == '{'
            ? c is '"' or '\'' or '}' or '/' or '\u201C' or '\u201D'
            : c is '"' or '\'' or ']' or '{' or '[' or '-' or '/' or 't' or 'f' or 'n' or '\u201C' or '\u201D' || char.IsAsciiDigit(c);
    }

    private static int MatchingBracket(string text, int open, ref long budget)
    {
        var depth = 0;
        var stringOpener = '\0';
        for (var i = open; i < text.Length; i++)
        {
            if (--budget < 0)
            {
                return -1;
            }

            var c = text[i];
            if (stringOpener != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"' || (stringOpener != '"' && c is '\u201C' or '\u201D'))
                {
                    // A plain string ends only at a plain quote (it may contain typographic ones); a typographic
                    // string, which the second parse will repair, ends at either.
                    stringOpener = '\0';
                }

                continue;
            }

            switch (c)
            {
                case '"' or '\u201C' or '\u201D':
                    stringOpener = c;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    depth--;
                    if (depth == 0)
                    {
                        return i;
                    }

                    break;
            }
        }

        return -1;
    }

    /// <summary>
    /// Parses with trailing commas and comments tolerated; failing that, once more with typographic double quotes
    /// made plain, which is safe only as a second try (a valid string may legitimately contain them).
    /// </summary>
    private static ExtractedJson? TryParse(string json)
    {
        if (Parse(json) is { } node)
        {
            return new ExtractedJson(node, QuotesRepaired: false);
        }

        if (json.AsSpan().IndexOfAny('\u201C', '\u201D') < 0)
        {
            return null;
        }

        var plainQuotes = json.Replace('\u201C', '"').Replace('\u201D', '"');
        return Parse(plainQuotes) is { } repaired ? new ExtractedJson(repaired, QuotesRepaired: true) : null;
    }

    private static JsonNode? Parse(string json)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: TolerantParsing);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
