using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Pipelines.Outputs;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>What the reader tells the model before it answers: prompt instructions and OpenAI's response_format.</summary>
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

    [Fact]
    public void Response_format_with_a_schema_is_a_non_strict_json_schema()
    {
        var format = new JsonOutputReader(AnalysisSchemas.Business).ResponseFormat("business_analysis");

        Assert.Equal("json_schema", format["type"]!.GetValue<string>());
        var jsonSchema = format["json_schema"]!.AsObject();
        Assert.Equal(["name", "schema", "strict"], jsonSchema.Select(p => p.Key));
        Assert.Equal("business_analysis", jsonSchema["name"]!.GetValue<string>());
        Assert.False(jsonSchema["strict"]!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(AnalysisSchemas.Business.GetRawText()), jsonSchema["schema"]));
    }

    [Fact]
    public void Response_format_name_is_made_acceptable_to_openai()
    {
        var reader = new JsonOutputReader(AnalysisSchemas.Business);

        Assert.Equal("business_analysis_v2", reader.ResponseFormat("business analysis.v2")["json_schema"]!["name"]!.GetValue<string>());
        Assert.Equal(64, reader.ResponseFormat(new string('n', 100))["json_schema"]!["name"]!.GetValue<string>().Length);
        Assert.Equal("output", reader.ResponseFormat("")["json_schema"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Response_format_returns_a_fresh_object_each_time()
    {
        var reader = new JsonOutputReader(AnalysisSchemas.Business);
        var first = reader.ResponseFormat("a");

        first["json_schema"]!["schema"]!["type"] = "array";

        Assert.Equal("object", reader.ResponseFormat("a")["json_schema"]!["schema"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Response_format_without_a_schema_is_json_object()
    {
        var format = new JsonOutputReader(null).ResponseFormat("anything");

        Assert.Equal("""{"type":"json_object"}""", format.ToJsonString());
    }
}
