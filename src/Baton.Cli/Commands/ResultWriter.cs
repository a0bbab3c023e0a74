using System.Text.Json;
using System.Text.Json.Nodes;

namespace Baton.Cli.Commands;

/// <summary>Writes a JSON result to a file, or to standard output as it is (no markup, no wrapping).</summary>
internal static class ResultWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <returns>False, with the reason on standard error, when the file cannot be written.</returns>
    public static bool Write(CliConsole console, string? file, JsonNode result) =>
        WriteText(console, file, result.ToJsonString(Indented) + Environment.NewLine);

    public static bool WriteText(CliConsole console, string? file, string text)
    {
        if (file is null)
        {
            console.Out.Profile.Out.Writer.Write(text);
            return true;
        }
        try
        {
            File.WriteAllText(Path.GetFullPath(file, console.WorkingDirectory), text);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            console.Error.WriteLine($"baton: cannot write '{file}': {ex.Message}");
            return false;
        }
    }
}
