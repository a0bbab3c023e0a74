using System.Text.Encodings.Web;
using System.Text.Json;

namespace Baton.Providers.OpenAi;

/// <summary>JSON settings for what Baton writes itself, matching what providers send (quotes and non-ASCII unescaped).</summary>
public static class OpenAiJson
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
