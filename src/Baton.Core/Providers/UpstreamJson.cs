using System.Text.Json;

namespace Baton.Providers;

/// <summary>
/// Reading a translated provider's answer, stream event or stream line with one rule for what goes wrong: text
/// that is not JSON is a malformed answer, and JSON in a shape the provider's API does not send (a missing field,
/// a value of the wrong kind) an unreadable one. Both are <c>upstream_malformed_response</c>.
/// </summary>
internal static class UpstreamJson
{
    /// <param name="provider">The provider's name, for errors.</param>
    /// <param name="what">What is read, for errors: <c>a response</c>, <c>a stream event</c>.</param>
    /// <param name="read">Reads the JSON; a <see cref="Errors.BatonException"/> it throws passes through.</param>
    public static T Read<T>(string provider, string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (JsonException)
        {
            throw UpstreamErrors.Malformed(provider, what);
        }
        catch (Exception ex) when (UpstreamErrors.IsShapeError(ex))
        {
            throw UpstreamErrors.Unreadable(provider, what);
        }
    }

    /// <summary>Parses <paramref name="json"/> and reads its root element.</summary>
    public static T Read<T>(string provider, string what, ReadOnlyMemory<byte> json, Func<JsonElement, T> read) =>
        Read(provider, what, () =>
        {
            using var document = JsonDocument.Parse(json);
            return read(document.RootElement);
        });
}
