namespace Baton.Configuration;

/// <summary>The provider <c>type</c> values Baton understands.</summary>
public static class ProviderTypes
{
    public const string OpenAi = "openai";
    public const string Anthropic = "anthropic";
    public const string Gemini = "gemini";
    public const string Ollama = "ollama";
    public const string Azure = "azure";
    public const string Simulator = "simulator";

    public static readonly IReadOnlyList<string> All = [OpenAi, Anthropic, Gemini, Ollama, Azure, Simulator];

    public static bool IsKnown(string? type) => type is not null && All.Contains(type, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Providers that may run without a key: Ollama, the simulator, and OpenAI-compatible servers on this
    /// machine or a private network (vLLM, llama.cpp), which usually check none.
    /// </summary>
    public static bool KeyOptional(string type, string? baseUrl)
    {
        if (type.Equals(Ollama, StringComparison.OrdinalIgnoreCase) || type.Equals(Simulator, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return type.Equals(OpenAi, StringComparison.OrdinalIgnoreCase)
            && Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri)
            && IsPrivateHost(uri);
    }

    private static bool IsPrivateHost(Uri uri)
    {
        if (uri.IsLoopback || !uri.Host.Contains('.', StringComparison.Ordinal))
        {
            return true;
        }
        if (!System.Net.IPAddress.TryParse(uri.Host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return false;
        }
        var bytes = address.GetAddressBytes();
        return bytes[0] == 10 || (bytes[0] == 172 && bytes[1] is >= 16 and <= 31) || (bytes[0] == 192 && bytes[1] == 168);
    }

    public static string DefaultBaseUrl(string type) => type.ToLowerInvariant() switch
    {
        OpenAi => "https://api.openai.com/v1",
        Anthropic => "https://api.anthropic.com/v1",
        Gemini => "https://generativelanguage.googleapis.com/v1beta",
        Ollama => "http://127.0.0.1:11434",
        Azure => "https://models.github.ai/inference",
        _ => "",
    };
}
