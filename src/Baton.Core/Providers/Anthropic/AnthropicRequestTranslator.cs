using System.Text.Json;
using Baton.Errors;
using Baton.Providers.OpenAi;
using Baton.Providers.Translation;
using Baton.Requests;

namespace Baton.Providers.Anthropic;

/// <summary>
/// Writes an Anthropic Messages request from a client's Chat Completions request. Anthropic differs in ways
/// that matter: the system prompt is a top-level field, roles must alternate (so consecutive turns of one
/// role are merged), tool results are <c>tool_result</c> blocks in a user turn, and <c>max_tokens</c> is required.
/// </summary>
public static class AnthropicRequestTranslator
{
    /// <summary>Anthropic requires <c>max_tokens</c>; this is used when neither the client nor the deployment set one.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>Anthropic's smallest accepted thinking budget.</summary>
    public const int MinThinkingBudget = 1024;

    /// <summary>The request's body, in a pooled buffer that the request's content gives back when it is sent.</summary>
    public static PooledBuffer Translate(OpenAiChatBody body, string model, bool stream)
    {
        var thinkingBudget = ThinkingBudget(body.ReasoningEffort);
        var maxTokens = body.MaxTokens ?? (thinkingBudget is int budget ? budget + DefaultMaxTokens : DefaultMaxTokens);
        // OpenAI counts reasoning inside the completion limit, as Anthropic counts thinking inside max_tokens;
        // the budget must stay below the limit, and a limit too small for the minimum budget means no thinking.
        if (thinkingBudget is int wanted)
        {
            var allowed = Math.Min(wanted, maxTokens - 1);
            thinkingBudget = allowed >= MinThinkingBudget ? allowed : null;
        }

        var writer = ScratchJson.Start();
        writer.WriteStartObject();
        writer.WriteString("model", model);
        writer.WriteNumber("max_tokens", maxTokens);
        if (body.SystemPrompts.Count > 0)
        {
            writer.WriteString("system", string.Join("\n\n", body.SystemPrompts));
        }
        AnthropicMessageWriter.WriteMessages(writer, body.Turns);
        WriteTools(writer, body);
        WriteSampling(writer, body, thinkingBudget);
        if (body.User is { Length: > 0 } user)
        {
            writer.WriteStartObject("metadata");
            writer.WriteString("user_id", user);
            writer.WriteEndObject();
        }
        if (stream)
        {
            writer.WriteBoolean("stream", true);
        }
        writer.WriteEndObject();
        var written = ScratchJson.Written(writer);
        var translated = new PooledBuffer(written.Length);
        translated.Append(written);
        ScratchJson.Trim();
        return translated;
    }

    /// <summary>
    /// OpenAI's effort levels as thinking budgets: the minimum for low, a few thousand tokens for medium,
    /// a generous budget for high. <c>none</c> and <c>minimal</c> leave thinking off.
    /// </summary>
    public static int? ThinkingBudget(string? effort) => effort?.ToLowerInvariant() switch
    {
        "low" => MinThinkingBudget,
        "medium" => 4096,
        "high" => 16384,
        _ => null,
    };

    private static void WriteTools(Utf8JsonWriter writer, OpenAiChatBody body)
    {
        if (body.Tools.Count == 0)
        {
            return;
        }
        writer.WriteStartArray("tools");
        foreach (var tool in body.Tools)
        {
            writer.WriteStartObject();
            writer.WriteString("name", tool.Name);
            if (tool.Description is not null)
            {
                writer.WriteString("description", tool.Description);
            }
            writer.WritePropertyName("input_schema");
            // Anthropic requires a schema; a function without parameters takes an empty object.
            writer.WriteRawValue(tool.ParametersJson ?? """{"type":"object","properties":{}}""");
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        var type = body.ToolChoice switch
        {
            "none" => "none",
            "required" => "any",
            "function" when body.ForcedTool is not null => "tool",
            "auto" => "auto",
            _ => null,
        };
        var disableParallel = body.ParallelToolCalls == false && type is not "none";
        if (type is null && !disableParallel)
        {
            return;
        }
        writer.WriteStartObject("tool_choice");
        writer.WriteString("type", type ?? "auto");
        if (type == "tool")
        {
            writer.WriteString("name", body.ForcedTool);
        }
        if (disableParallel)
        {
            writer.WriteBoolean("disable_parallel_tool_use", true);
        }
        writer.WriteEndObject();
    }

    private static void WriteSampling(Utf8JsonWriter writer, OpenAiChatBody body, int? thinkingBudget)
    {
        if (thinkingBudget is int budget)
        {
            writer.WriteStartObject("thinking");
            writer.WriteString("type", "enabled");
            writer.WriteNumber("budget_tokens", budget);
            writer.WriteEndObject();
        }
        else
        {
            // Anthropic rejects temperature and most top_p values while thinking, so they go only without it.
            if (body.Temperature is double temperature)
            {
                // Anthropic's range is 0..1 where OpenAI's is 0..2: the nearest value Anthropic accepts.
                writer.WriteNumber("temperature", Math.Clamp(temperature, 0, 1));
            }
            if (body.TopP is double topP)
            {
                writer.WriteNumber("top_p", topP);
            }
        }
        // Anthropic refuses stop sequences made only of whitespace.
        var stops = body.Stop.Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (stops.Count > 0)
        {
            writer.WriteStartArray("stop_sequences");
            foreach (var stop in stops)
            {
                writer.WriteStringValue(stop);
            }
            writer.WriteEndArray();
        }
    }

    internal static BatonException BadArguments(string tool) => BatonException.InvalidRequest(
        $"The arguments of the call to '{tool}' in the conversation are not a JSON object; Anthropic needs one.", "messages");
}
