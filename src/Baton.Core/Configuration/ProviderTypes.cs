namespace Baton.Configuration;

/// <summary>The provider <c>type</c> values Baton understands.</summary>
public static class ProviderTypes
{
    /// <summary>OpenAI's Chat Completions API, and any server that speaks it (OpenRouter, DeepSeek, vLLM, llama.cpp, LM Studio).</summary>
    public const string OpenAi = "openai";
    /// <summary>Anthropic's Messages API; requests and answers are translated from and to Chat Completions.</summary>
    public const string Anthropic = "anthropic";
    /// <summary>Google's Gemini API (<c>generateContent</c>); requests and answers are translated from and to Chat Completions.</summary>
    public const string Gemini = "gemini";
    /// <summary>Ollama's native chat API (<c>/api/chat</c>), which needs no key.</summary>
    public const string Ollama = "ollama";
    /// <summary>Azure AI Inference and GitHub Models: Chat Completions with an <c>api-version</c> query parameter.</summary>
    public const string Azure = "azure";
    /// <summary>Baton's simulated models, answered in process without a network call or a key.</summary>
    public const string Simulator = "simulator";

    /// <summary>Every provider type, in the order error messages list them.</summary>
    public static readonly IReadOnlyList<string> All = [OpenAi, Anthropic, Gemini, Ollama, Azure, Simulator];

    /// <summary>True when <paramref name="type"/> is one of <see cref="All"/>, in any case; false for null.</summary>
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

    /// <summary>
    /// The base URL requests are built on. A URL written the way the vendor's SDK takes it, with no path
    /// (<c>https://api.anthropic.com</c>, <c>https://generativelanguage.googleapis.com</c>), gets the API version
    /// path the SDK would add (<c>/v1</c>, <c>/v1beta</c>).
    /// </summary>
    public static string ResolveBaseUrl(string type, string? baseUrl)
    {
        var url = (baseUrl ?? DefaultBaseUrl(type)).TrimEnd('/');
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.AbsolutePath is "/" or "" && string.IsNullOrEmpty(uri.Query))
        {
            return type.ToLowerInvariant() switch
            {
                Anthropic => url + "/v1",
                Gemini => url + "/v1beta",
                _ => url,
            };
        }
        return url;
    }

    /// <summary>
    /// Why <paramref name="baseUrl"/> cannot be a base URL of <paramref name="type"/> (it names an endpoint Baton
    /// appends itself), with the form expected; null when it can.
    /// </summary>
    public static string? ExplainBaseUrl(string type, string baseUrl)
    {
        var path = Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) ? uri.AbsolutePath.TrimEnd('/') : "";
        var (endpoint, example) = type.ToLowerInvariant() switch
        {
            OpenAi => ("/chat/completions", "https://api.openai.com/v1 or https://openrouter.ai/api/v1"),
            Azure => ("/chat/completions", "https://models.github.ai/inference"),
            Anthropic => ("/messages", "https://api.anthropic.com (or https://api.anthropic.com/v1)"),
            Gemini => ("/models", "https://generativelanguage.googleapis.com (or .../v1beta)"),
            Ollama => ("/api/chat", "http://127.0.0.1:11434"),
            _ => ((string?)null, ""),
        };
        if (endpoint is null)
        {
            return null;
        }
        var names = path.EndsWith(endpoint, StringComparison.OrdinalIgnoreCase) ||
                    path.Contains(endpoint + "/", StringComparison.OrdinalIgnoreCase) ||
                    path.Contains(":generateContent", StringComparison.OrdinalIgnoreCase) ||
                    path.Contains(":streamGenerateContent", StringComparison.OrdinalIgnoreCase);
        return names
            ? $"'{baseUrl}' names the endpoint itself; give the API's base URL, e.g. {example}: Baton appends {endpoint}{(type.Equals(Gemini, StringComparison.OrdinalIgnoreCase) ? "/MODEL:generateContent" : "")} itself."
            : null;
    }

    /// <summary>
    /// The vendor's public endpoint a provider of <paramref name="type"/> uses when its <c>baseUrl</c> is not set
    /// (for <c>ollama</c>, a local server on its default port); empty for the simulator and unknown types.
    /// </summary>
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
