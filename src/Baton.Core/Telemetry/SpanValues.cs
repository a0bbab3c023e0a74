using System.Diagnostics;

namespace Baton.Telemetry;

/// <summary>
/// Span attribute values that would otherwise be boxed anew for every recorded span: the two booleans and the small
/// counts (attempt numbers, token counts of short answers) each have one shared box. A tag's value is an object, so an
/// attribute like <c>baton.fallback</c> or <c>baton.attempt</c> cost every recorded span an allocation of its own.
/// </summary>
internal static class SpanValues
{
    private const int SmallCounts = 256;

    private static readonly object True = true;
    private static readonly object False = false;
    private static readonly object[] Counts = CreateCounts();

    public static object Of(bool value) => value ? True : False;

    public static object Of(int value) => (uint)value < SmallCounts ? Counts[value] : value;

    /// <summary>
    /// Adds a tag to a span that cannot hold it yet, unless its value is null (which <see cref="Activity.SetTag"/>
    /// would not add either). Adding does not search the span's tags for the key, as setting does.
    /// </summary>
    public static void AddTagIfPresent(this Activity span, string key, object? value)
    {
        if (value is not null)
        {
            span.AddTag(key, value);
        }
    }

    private static object[] CreateCounts()
    {
        var counts = new object[SmallCounts];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = i;
        }
        return counts;
    }
}
