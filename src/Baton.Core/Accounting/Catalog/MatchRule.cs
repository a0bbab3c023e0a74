namespace Baton.Accounting.Catalog;

/// <summary>
/// genai-prices' match logic (<c>equals</c>, <c>starts_with</c>, <c>ends_with</c>, <c>contains</c>,
/// <c>regex</c>, <c>or</c>, <c>and</c>), applied as genai-prices applies it: text comparisons ignore case, a
/// regex searches anywhere in the (lower-cased) text unless it anchors itself.
/// </summary>
internal abstract class MatchRule
{
    public abstract bool IsMatch(string text);

    public static MatchRule From(MatchJson json, string where)
    {
        if (json.EqualTo is { } equal)
        {
            return new Text(equal, static (text, value) => text.Equals(value, StringComparison.OrdinalIgnoreCase));
        }
        if (json.StartsWith is { } prefix)
        {
            return new Text(prefix, static (text, value) => text.StartsWith(value, StringComparison.OrdinalIgnoreCase));
        }
        if (json.EndsWith is { } suffix)
        {
            return new Text(suffix, static (text, value) => text.EndsWith(value, StringComparison.OrdinalIgnoreCase));
        }
        if (json.Contains is { } part)
        {
            return new Text(part, static (text, value) => text.Contains(value, StringComparison.OrdinalIgnoreCase));
        }
        if (json.Regex is { } pattern)
        {
            return new Pattern(pattern);
        }
        if (json.Or is { } any)
        {
            return new AnyOf(any.Select(clause => From(clause, where)).ToArray());
        }
        if (json.And is { } all)
        {
            return new AllOf(all.Select(clause => From(clause, where)).ToArray());
        }
        throw new FormatException($"{where}: a match clause needs one of equals, starts_with, ends_with, contains, regex, or, and.");
    }

    private sealed class Text(string value, Func<string, string, bool> test) : MatchRule
    {
        public override bool IsMatch(string text) => test(text, value);
    }

    private sealed class Pattern(string pattern) : MatchRule
    {
        // Built only if a text could match it (CatalogPattern).
        private readonly CatalogPattern _pattern = CatalogPattern.Search(pattern);

        public override bool IsMatch(string text) => _pattern.IsMatch(text);
    }

    private sealed class AnyOf(MatchRule[] clauses) : MatchRule
    {
        public override bool IsMatch(string text) => clauses.Any(clause => clause.IsMatch(text));
    }

    private sealed class AllOf(MatchRule[] clauses) : MatchRule
    {
        public override bool IsMatch(string text) => clauses.All(clause => clause.IsMatch(text));
    }
}
