using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Providers;

namespace Baton.Simulation;

/// <summary>
/// A deterministic stand-in for an LLM: the same prompt to the same model always gets the same answer,
/// with usage counted the way real providers count it (roughly four characters a token, a few tokens of
/// overhead per message). Offered tools are called with arguments that satisfy their schema; after a tool
/// result, the answer quotes it. Asked for JSON (<c>response_format</c>), it answers with a value that fits the
/// schema (see <see cref="SimulatedJson"/>). Models whose name says "reasoning" or "r1" also report reasoning tokens.
/// </summary>
public static class SimulatedModel
{
    private static readonly string[] Vocabulary =
    [
        "the", "gateway", "routes", "each", "request", "to", "a", "healthy", "deployment", "and", "records",
        "its", "usage", "so", "costs", "stay", "exact", "while", "streams", "arrive", "token", "by", "quickly",
        "models", "answer", "in", "order", "with", "clear", "results", "for", "every", "caller", "that", "asks",
    ];

    /// <param name="prompt">The request as the simulator read it.</param>
    /// <param name="timeProvider">The clock of the answer's <c>created</c> time.</param>
    /// <param name="answerWords">Words in a text answer after its opening; 0 for 12 to 35, chosen by the prompt.</param>
    public static SimulatedAnswer Answer(SimulatedPrompt prompt, TimeProvider timeProvider, int answerWords = 0)
    {
        var seed = Fnv1a(prompt);
        var id = "chatcmpl-sim" + seed.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        var created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        var promptTokens = CountPromptTokens(prompt);
        var reasoning = IsReasoningModel(prompt.Model) ? 16 + (int)(seed % 48) : 0;
        // As with real reasoning models, max_tokens bounds the reasoning and the visible answer together.
        if (prompt.MaxTokens is int limit)
        {
            reasoning = Math.Min(reasoning, Math.Max(0, limit));
        }

        var last = prompt.Messages.Count > 0 ? prompt.Messages[^1] : null;
        if (prompt.ToolsAllowed && prompt.Tools.Count > 0 && last is { IsToolResult: false })
        {
            var tool = prompt.Tools.FirstOrDefault(t => t.Name == prompt.ForcedTool) ?? prompt.Tools[0];
            var arguments = SampleArguments(tool.ParametersSchemaJson);
            var callId = "call_" + (seed >> 16).ToString("x12", System.Globalization.CultureInfo.InvariantCulture);
            var completion = EstimateTokens(tool.Name) + EstimateTokens(arguments) + 3;
            if (prompt.MaxTokens is int toolLimit)
            {
                reasoning = Math.Min(reasoning, Math.Max(0, toolLimit - completion));
            }
            return new SimulatedAnswer
            {
                Id = id,
                Model = prompt.Model,
                Created = created,
                Pieces = [],
                ToolCall = new SimulatedToolCall(callId, tool.Name, arguments),
                FinishReason = "tool_calls",
                Usage = TokenUsage.Of(promptTokens, completion + reasoning, reasoning: reasoning),
            };
        }

        var pieces = prompt.ResponseFormat is not null
            ? Tokenize(SimulatedJson.Compose(prompt.ResponseSchemaJson, prompt.Model, new Random(unchecked((int)seed ^ (int)(seed >> 32)))))
            : ComposeText(prompt, last, seed, answerWords);
        var finish = "stop";
        if (prompt.MaxTokens is int max && pieces.Count > max - reasoning)
        {
            pieces = pieces.GetRange(0, Math.Max(0, max - reasoning));
            finish = "length";
        }
        return new SimulatedAnswer
        {
            Id = id,
            Model = prompt.Model,
            Created = created,
            Pieces = pieces,
            FinishReason = finish,
            Usage = TokenUsage.Of(promptTokens, pieces.Count + reasoning, reasoning: reasoning),
        };
    }

    /// <summary>Roughly how many tokens a text takes: a token per four characters, at least one per word.</summary>
    public static int EstimateTokens(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return Math.Max(words, (text.Length + 3) / 4);
    }

    public static bool IsReasoningModel(string model) =>
        model.Contains("reasoning", StringComparison.OrdinalIgnoreCase) || model.Contains("r1", StringComparison.OrdinalIgnoreCase);

    /// <summary>The prompt's tokens as the simulator counts them: what its answers report as input, and what count_tokens says.</summary>
    public static int CountPromptTokens(SimulatedPrompt prompt)
    {
        var tokens = 3;
        foreach (var message in prompt.Messages)
        {
            tokens += 4 + EstimateTokens(message.Text);
        }
        foreach (var tool in prompt.Tools)
        {
            tokens += 8 + EstimateTokens(tool.Name) + EstimateTokens(tool.ParametersSchemaJson ?? "");
        }
        return tokens;
    }

    private static List<string> ComposeText(SimulatedPrompt prompt, SimulatedMessage? last, ulong seed, int answerWords)
    {
        var builder = new StringBuilder();
        if (last is { IsToolResult: true })
        {
            builder.Append("Based on the tool result ").Append(Quote(last.Text)).Append(", here is the answer:");
        }
        else
        {
            var question = prompt.Messages.LastOrDefault(m => m.Role == "user")?.Text ?? "";
            builder.Append("Simulated answer from ").Append(prompt.Model).Append(" to ").Append(Quote(question)).Append(':');
        }

        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var words = answerWords > 0 ? answerWords : 12 + random.Next(24);
        for (var i = 0; i < words; i++)
        {
            builder.Append(' ').Append(Vocabulary[random.Next(Vocabulary.Length)]);
        }
        builder.Append('.');
        return Tokenize(builder.ToString());
    }

    /// <summary>Splits text into pieces that each start with their leading space, as real tokenizers do.</summary>
    private static List<string> Tokenize(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                pieces.Add(text[start..i]);
                start = i;
            }
        }
        return pieces;
    }

    private static string Quote(string text)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return "\"" + (flat.Length > 60 ? flat[..60] + "…" : flat) + "\"";
    }

    private static string SampleArguments(string? schemaJson)
    {
        var arguments = new JsonObject();
        if (schemaJson is not null && JsonNode.Parse(schemaJson) is JsonObject schema && schema["properties"] is JsonObject properties)
        {
            foreach (var (name, property) in properties)
            {
                arguments[name] = SampleValue(name, property as JsonObject);
            }
        }
        return arguments.ToJsonString();
    }

    private static JsonNode? SampleValue(string name, JsonObject? schema)
    {
        if (schema?["enum"] is JsonArray { Count: > 0 } choices)
        {
            return choices[0]?.DeepClone();
        }
        return (schema?["type"]?.GetValueKind() == JsonValueKind.String ? (string?)schema["type"] : null) switch
        {
            "integer" => 1,
            "number" => 1.5,
            "boolean" => true,
            "array" => new JsonArray(),
            "object" => new JsonObject(),
            _ => "sample " + name,
        };
    }

    private static ulong Fnv1a(SimulatedPrompt prompt)
    {
        var hash = 14695981039346656037UL;
        void Add(string text)
        {
            foreach (var c in text)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }
            hash = (hash ^ 0xff) * 1099511628211UL;
        }
        Add(prompt.Model);
        foreach (var message in prompt.Messages)
        {
            Add(message.Role);
            Add(message.Text);
        }
        foreach (var tool in prompt.Tools)
        {
            Add(tool.Name);
        }
        return hash;
    }
}
