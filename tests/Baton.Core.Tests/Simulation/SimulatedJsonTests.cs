using System.Text.Json.Nodes;
using Baton.Simulation;
using Baton.Simulation.Wire;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Core.Tests.Simulation;

/// <summary>Asked for JSON, the simulator answers with a value that fits the schema, in each wire format.</summary>
public sealed class SimulatedJsonTests
{
    private const string Schema = """
        {"type":"object","required":["score","tags","ok","level","items"],"properties":{
          "score":{"type":"integer","minimum":3,"maximum":4},
          "tags":{"type":"array","items":{"type":"string"},"minItems":2,"maxItems":2},
          "ok":{"type":"boolean"},
          "level":{"type":"string","enum":["low","high"]},
          "items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}}
        """;

    private static string Answer(SimulatedPrompt prompt) => SimulatedModel.Answer(prompt, new FakeTimeProvider()).Text;

    [Fact]
    public void An_openai_json_schema_request_gets_a_value_that_fits_the_schema()
    {
        var prompt = OpenAiPromptReader.Read(System.Text.Encoding.UTF8.GetBytes($$"""
            {"model":"m","messages":[{"role":"user","content":"Rate it"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"rating","schema":{{Schema}}} } }
            """));

        var value = JsonNode.Parse(Answer(prompt))!;

        Assert.Equal("json_schema", prompt.ResponseFormat);
        Assert.InRange(value["score"]!.GetValue<int>(), 3, 4);
        Assert.Equal(2, value["tags"]!.AsArray().Count);
        Assert.Contains(value["ok"]!.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
        Assert.Contains(value["level"]!.GetValue<string>(), new[] { "low", "high" });
        Assert.NotEmpty(value["items"]!.AsArray());
        Assert.All(value["items"]!.AsArray(), item => Assert.Equal(System.Text.Json.JsonValueKind.String, item!["name"]!.GetValueKind()));
        Assert.Equal(Answer(prompt), Answer(prompt));
    }

    [Fact]
    public void A_reasoning_model_thinks_aloud_and_fences_its_json_as_deepseek_r1_does()
    {
        var prompt = new SimulatedPrompt { Model = "deepseek/deepseek-r1:free", ResponseFormat = "json_schema", ResponseSchemaJson = Schema };
        prompt.Messages.Add(new SimulatedMessage("user", "Rate it"));

        var text = Answer(prompt);

        Assert.StartsWith("<think>", text, StringComparison.Ordinal);
        var fenced = text[(text.IndexOf("```json", StringComparison.Ordinal) + 7)..text.LastIndexOf("```", StringComparison.Ordinal)];
        Assert.InRange(JsonNode.Parse(fenced)!["score"]!.GetValue<int>(), 3, 4);
    }

    [Fact]
    public void Gemini_and_ollama_json_requests_are_read_too()
    {
        var gemini = GeminiPromptReader.Read(System.Text.Encoding.UTF8.GetBytes($$"""
            {"contents":[{"role":"user","parts":[{"text":"Rate it"}]}],
             "generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{{Schema}} } }
            """), "gemini-x", stream: false);
        var ollama = OllamaPromptReader.Read(System.Text.Encoding.UTF8.GetBytes("""
            {"model":"llama","stream":false,"format":"json","messages":[{"role":"user","content":"Rate it"}]}
            """));

        Assert.Equal("json_schema", gemini.ResponseFormat);
        Assert.InRange(JsonNode.Parse(Answer(gemini))!["score"]!.GetValue<int>(), 3, 4);
        Assert.Equal("json_object", ollama.ResponseFormat);
        Assert.IsType<JsonObject>(JsonNode.Parse(Answer(ollama)));
    }
}
