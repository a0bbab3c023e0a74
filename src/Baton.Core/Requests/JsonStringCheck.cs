using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Baton.Errors;

namespace Baton.Requests;

/// <summary>
/// Refuses a JSON text with a string that cannot be decoded: invalid UTF-8 (which <see cref="Utf8JsonReader"/>
/// does not check while it reads) or an escaped surrogate without its pair (<c>"\ud800"</c>). Left in, either
/// fails much later, wherever the string is first decoded, as an error that is no longer the caller's.
/// </summary>
/// <remarks>
/// A valid text costs one vectorised UTF-8 check and one search for <c>\u</c>; the path of the offending string
/// is looked for only when something is wrong.
/// </remarks>
public static class JsonStringCheck
{
    /// <summary>The error code of a string that cannot be decoded.</summary>
    public const string InvalidEncoding = "invalid_encoding";

    /// <summary>Throws a 400 naming the first string that cannot be decoded; returns when every string decodes.</summary>
    /// <param name="json">The JSON text, as UTF-8.</param>
    /// <param name="root">Put before the path of the offending string (e.g. <c>input</c>), or null.</param>
    /// <exception cref="BatonException">400 <c>invalid_encoding</c> with the string's path as <c>param</c>.</exception>
    public static void Validate(ReadOnlySpan<byte> json, string? root = null)
    {
        if (Utf8.IsValid(json) && !HasLoneSurrogateEscape(json))
        {
            return;
        }
        if (FindUndecodable(json) is not { } found)
        {
            // Malformed JSON, or bytes that are invalid outside any string: the JSON parser reports it.
            return;
        }
        var param = Join(root, found.Path);
        var what = found.IsName ? "a property name in" : "the string";
        var where = param is null ? "the body" : $"'{param}'";
        throw BatonException.InvalidRequest(
            $"Invalid text in {what} {where}: strings must be valid UTF-8, and an escaped surrogate (\\ud800 to \\udfff) must be one of a pair.",
            param, InvalidEncoding);
    }

    /// <summary>Whether an escape <c>\uXXXX</c> names a surrogate that is not one of a high-then-low pair.</summary>
    internal static bool HasLoneSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var offset = 0;
        while (true)
        {
            var found = json[offset..].IndexOf("\\u"u8);
            if (found < 0)
            {
                return false;
            }
            var at = offset + found;
            offset = at + 2;
            if (!IsEscape(json, at) || !TryHex(json, at + 2, out var unit))
            {
                continue;
            }
            if (char.IsLowSurrogate((char)unit))
            {
                return true;
            }
            if (char.IsHighSurrogate((char)unit))
            {
                if (!(json.Length >= at + 12 && json[at + 6] == '\\' && json[at + 7] == 'u' && TryHex(json, at + 8, out var low) && char.IsLowSurrogate((char)low)))
                {
                    return true;
                }
                offset = at + 12;
            }
        }
    }

    /// <summary>Whether the backslash at <paramref name="at"/> starts an escape (it is not itself escaped).</summary>
    private static bool IsEscape(ReadOnlySpan<byte> json, int at)
    {
        var backslashes = 0;
        for (var i = at - 1; i >= 0 && json[i] == '\\'; i--)
        {
            backslashes++;
        }
        return backslashes % 2 == 0;
    }

    private static bool TryHex(ReadOnlySpan<byte> json, int start, out int value)
    {
        value = 0;
        if (json.Length < start + 4)
        {
            return false;
        }
        for (var i = start; i < start + 4; i++)
        {
            var digit = HexValue(json[i]);
            if (digit < 0)
            {
                return false;
            }
            value = (value << 4) | digit;
        }
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>The path of the first string or property name that does not decode; null when there is none or the JSON is malformed first.</summary>
    private static (string? Path, bool IsName)? FindUndecodable(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        frames[^1] = frames[^1] with { Name = null };
                        if (!Decodes(ref reader))
                        {
                            return (PathOf(frames), true);
                        }
                        frames[^1] = frames[^1] with { Name = reader.GetString() };
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Advance(frames);
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray, null, -1));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.String:
                        Advance(frames);
                        if (!Decodes(ref reader))
                        {
                            return (PathOf(frames), false);
                        }
                        break;
                    default:
                        Advance(frames);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        return null;
    }

    private static bool Decodes(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return Utf8.IsValid(reader.ValueSpan);
        }
        try
        {
            reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A value starts: in an array, it is the next element.</summary>
    private static void Advance(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray)
        {
            frames[^1] = frames[^1] with { Index = frames[^1].Index + 1 };
        }
    }

    private static string? PathOf(List<Frame> frames)
    {
        var path = new StringBuilder();
        foreach (var frame in frames)
        {
            if (frame.IsArray)
            {
                if (frame.Index >= 0)
                {
                    path.Append('[').Append(frame.Index).Append(']');
                }
            }
            else if (frame.Name is not null)
            {
                if (path.Length > 0)
                {
                    path.Append('.');
                }
                path.Append(frame.Name);
            }
        }
        return path.Length == 0 ? null : path.ToString();
    }

    private static string? Join(string? root, string? path) => (root, path) switch
    {
        (null, _) => path,
        (_, null) => root,
        _ when path.StartsWith('[') => root + path,
        _ => root + "." + path,
    };

    /// <summary>An object (the property being read) or an array (the element being read) on the way to the current value.</summary>
    private readonly record struct Frame(bool IsArray, string? Name, int Index);
}
