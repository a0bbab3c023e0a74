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

    /// <summary>Providers that need no key: local servers and the simulator.</summary>
    public static bool KeyOptional(string type) =>
        type.Equals(Ollama, StringComparison.OrdinalIgnoreCase) || type.Equals(Simulator, StringComparison.OrdinalIgnoreCase);

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
