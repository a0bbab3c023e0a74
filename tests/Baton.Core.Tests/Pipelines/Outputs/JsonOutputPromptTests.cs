using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Pipelines.Outputs;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>What the reader tells the model before it answers: the prompt instructions.</summary>
public sealed class JsonOutputPromptTests
{
    [Fact]
    public void Instructions_ask_for_only_json_and_carry_the_schema_compactly()
    {
        var reader = new JsonOutputReader(AnalysisSchemas.Aggregated);

        var instructions = reader.Instructions;

        Assert.StartsWith("Answer with only a JSON object that matches this JSON Schema", instructions, StringComparison.Ordinal);
        var schemaLine = instructions.Split('\n')[^1];
        Assert.StartsWith("JSON Schema: {\"type\":\"object\",\"properties\":{\"overall_assessment\":{\"type\":\"string\"}", schemaLine, StringComparison.Ordinal);
        Assert.DoesNotContain("  ", schemaLine, StringComparison.Ordinal);
        using var embedded = JsonDocument.Parse(schemaLine["JSON Schema: ".Length..]);
        Assert.True(JsonElement.DeepEquals(AnalysisSchemas.Aggregated, embedded.RootElement));
    }

    [Fact]
    public void Instructions_for_an_array_schema_ask_for_an_array()
    {
        using var schema = JsonDocument.Parse("""{"type":"array","items":{"type":"string"}}""");

        var instructions = new JsonOutputReader(schema.RootElement).Instructions;

        Assert.StartsWith("Answer with only a JSON array that matches", instructions, StringComparison.Ordinal);
        Assert.EndsWith("""JSON Schema: {"type":"array","items":{"type":"string"}}""", instructions, StringComparison.Ordinal);
    }

    [Fact]
    public void Instructions_without_a_schema_ask_for_any_json()
    {
        Assert.Equal(
            "Answer with only a JSON object or array: no prose before or after it and no code fences.",
            new JsonOutputReader(null).Instructions);
    }
}
