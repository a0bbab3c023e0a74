using System.Text.Json;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Anthropic's <c>usage</c> object. Its <c>input_tokens</c> leaves out the tokens read from or written to
/// the prompt cache, which OpenAI counts in <c>prompt_tokens</c>; <see cref="ToTokenUsage"/> adds them back.
/// </summary>
internal readonly record struct AnthropicUsage(int Input, int Output, int CacheRead, int CacheCreation)
{
    public static AnthropicUsage Read(JsonElement usage) => new(
        Count(usage, "input_tokens"),
        Count(usage, "output_tokens"),
        Count(usage, "cache_read_input_tokens"),
        Count(usage, "cache_creation_input_tokens"));

    /// <summary>Later events repeat only some counts; a count they carry replaces the earlier one.</summary>
    public AnthropicUsage Update(JsonElement usage) => new(
        Has(usage, "input_tokens") ? Count(usage, "input_tokens") : Input,
        Has(usage, "output_tokens") ? Count(usage, "output_tokens") : Output,
        Has(usage, "cache_read_input_tokens") ? Count(usage, "cache_read_input_tokens") : CacheRead,
        Has(usage, "cache_creation_input_tokens") ? Count(usage, "cache_creation_input_tokens") : CacheCreation);

    /// <summary><see cref="Read(JsonElement)"/> of counts read without a document.</summary>
    public static AnthropicUsage Read(UsageCounts usage) =>
        new(usage.Input ?? 0, usage.Output ?? 0, usage.CacheRead ?? 0, usage.CacheCreation ?? 0);

    /// <summary><see cref="Update(JsonElement)"/> with counts read without a document.</summary>
    public AnthropicUsage Update(UsageCounts usage) =>
        new(usage.Input ?? Input, usage.Output ?? Output, usage.CacheRead ?? CacheRead, usage.CacheCreation ?? CacheCreation);

    public TokenUsage ToTokenUsage() => TokenUsage.Of(Input + CacheRead + CacheCreation, Output, cached: CacheRead, cacheWrite: CacheCreation);

    private static bool Has(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number;

    private static int Count(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var value) &&
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) ? count : 0;
}
