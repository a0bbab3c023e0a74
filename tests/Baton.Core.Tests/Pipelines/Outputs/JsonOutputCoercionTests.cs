using System.Text.Json;
using Baton.Pipelines.Outputs;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>Values a model wrote in an equivalent form are brought to the schema's form, each change recorded.</summary>
public sealed class JsonOutputCoercionTests
{
    private static readonly JsonOutputReader AggregatedReader = new(AnalysisSchemas.Aggregated);
    private static readonly JsonOutputReader BusinessReader = new(AnalysisSchemas.Business);

    private static string Aggregated(string score) =>
        $$"""{"overall_assessment": "Promising", "top_priorities": ["Add tests"], "vibecodibility_score": {{score}}, "borg_tools_fit": 5}""";

    private static string Business(string viability, string suitable) =>
        $$"""{"problem_solved": "p", "target_audience": "t", "monetization_strategy": "m", "market_viability": {{viability}}, "portfolio_suitable": {{suitable}}, "portfolio_pitch": "pp"}""";

    [Theory]
    [InlineData("\"7\"", 7, "$.vibecodibility_score: \"7\" read as 7")]
    [InlineData("\" 7 \"", 7, "$.vibecodibility_score: \" 7 \" read as 7")]
    [InlineData("7.0", 7, "$.vibecodibility_score: 7.0 read as 7")]
    [InlineData("\"7/10\"", 7, "$.vibecodibility_score: \"7/10\" read as 7")]
    [InlineData("\"8 out of 10\"", 8, "$.vibecodibility_score: \"8 out of 10\" read as 8")]
    [InlineData("12", 10, "$.vibecodibility_score: 12 is out of range, clamped to 10")]
    [InlineData("-2", 0, "$.vibecodibility_score: -2 is out of range, clamped to 0")]
    public void Score_written_loosely_becomes_an_integer_in_range(string written, int expected, string coercion)
    {
        var result = AggregatedReader.Read(Aggregated(written));

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(expected, result.Value!["vibecodibility_score"]!.GetValue<int>());
        Assert.Equal(JsonValueKind.Number, result.Value["vibecodibility_score"]!.GetValueKind());
        Assert.Equal([coercion], result.Coercions);
    }

    [Fact]
    public void A_string_score_above_the_maximum_is_read_then_clamped_and_both_steps_are_recorded()
    {
        var result = AggregatedReader.Read(Aggregated("\"15\""));

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(10, result.Value!["vibecodibility_score"]!.GetValue<int>());
        Assert.Equal(["$.vibecodibility_score: \"15\" read as 15", "$.vibecodibility_score: 15 is out of range, clamped to 10"], result.Coercions);
    }

    [Theory]
    [InlineData("\"7/100\"")]        // another scale: converting it would be a guess
    [InlineData("\"7 out of 5\"")]
    [InlineData("\"7.5\"")]          // a fraction is not an integer
    [InlineData("7.5")]
    [InlineData("12.5")]             // out of range too, but clamping would accept a fraction that 7.5 is refused for
    [InlineData("\"high\"")]
    [InlineData("\"7 (good)\"")]
    [InlineData("\"1e1\"")]          // exponents are not how anyone writes a score by hand
    public void Score_that_is_not_safely_an_integer_out_of_ten_is_a_problem(string written)
    {
        var result = AggregatedReader.Read(Aggregated(written));

        Assert.False(result.IsValid);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("$.vibecodibility_score", problem.Path);
        Assert.Equal($"must be an integer between 0 and 10, got {written}", problem.Message);
        Assert.Empty(result.Coercions);
    }

    [Theory]
    [InlineData("\"yes\"", true)]
    [InlineData("\"Yes\"", true)]
    [InlineData("\"true\"", true)]
    [InlineData("\"no\"", false)]
    [InlineData("\"FALSE\"", false)]
    public void Yes_no_and_true_false_strings_become_booleans(string written, bool expected)
    {
        var result = BusinessReader.Read(Business("6", written));

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(expected, result.Value!["portfolio_suitable"]!.GetValue<bool>());
        Assert.Equal([$"$.portfolio_suitable: {written} read as {(expected ? "true" : "false")}"], result.Coercions);
    }

    [Fact]
    public void Maybe_is_not_a_boolean()
    {
        var result = BusinessReader.Read(Business("6", "\"maybe\""));

        Assert.Equal(new JsonOutputProblem("$.portfolio_suitable", "must be a boolean, got \"maybe\""), Assert.Single(result.Problems));
    }

    [Fact]
    public void Loose_business_answer_is_coerced_field_by_field()
    {
        var result = BusinessReader.Read(Business("\"9/10\"", "\"yes\""));

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(9, result.Value!["market_viability"]!.GetValue<int>());
        Assert.True(result.Value["portfolio_suitable"]!.GetValue<bool>());
        Assert.Equal(["$.market_viability: \"9/10\" read as 9", "$.portfolio_suitable: \"yes\" read as true"], result.Coercions);
    }

    [Fact]
    public void Enum_in_another_case_takes_the_canonical_spelling()
    {
        var answer = """{"architecture_assessment": "Layered", "design_patterns": ["MVC"], "scalability_notes": "ok", "technical_debt_priority": "High"}""";

        var result = new JsonOutputReader(AnalysisSchemas.Architect).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal("high", result.Value!["technical_debt_priority"]!.GetValue<string>());
        Assert.Equal(["$.technical_debt_priority: \"High\" read as \"high\""], result.Coercions);
    }

    [Fact]
    public void Enum_values_that_differ_only_by_case_are_not_guessed_between()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"unit":{"type":"string","enum":["mB","MB"]}}}""");

        var result = new JsonOutputReader(schema.RootElement).Read("""{"unit": "mb"}""");

        Assert.Equal(new JsonOutputProblem("$.unit", "must be one of \"mB\", \"MB\", got \"mb\""), Assert.Single(result.Problems));
        Assert.Empty(result.Coercions);
    }

    [Fact]
    public void A_single_string_where_a_list_of_strings_is_wanted_becomes_a_one_item_list()
    {
        var answer = """{"architecture_assessment": "Layered", "design_patterns": "Repository", "scalability_notes": "ok", "technical_debt_priority": "low"}""";

        var result = new JsonOutputReader(AnalysisSchemas.Architect).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(["Repository"], result.Value!["design_patterns"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["$.design_patterns: \"Repository\" read as [\"Repository\"]"], result.Coercions);
    }

    [Fact]
    public void Coercion_reaches_array_items_through_a_schema_reference()
    {
        var answer = """
            {"deployment_strategy": "Docker on a VPS", "infrastructure_recommendations": "One small VM",
             "deployment_blockers": [{"issue": "No Dockerfile", "severity": "CRITICAL", "effort_hours": "3"}],
             "mvp_roadmap": ["Write Dockerfile"]}
            """;

        var result = new JsonOutputReader(AnalysisSchemas.Deployment).Read(answer);

        Assert.True(result.IsValid, result.Describe());
        var blocker = result.Value!["deployment_blockers"]![0]!;
        Assert.Equal("critical", blocker["severity"]!.GetValue<string>());
        Assert.Equal(3, blocker["effort_hours"]!.GetValue<int>());
        Assert.Equal(
            ["$.deployment_blockers[0].severity: \"CRITICAL\" read as \"critical\"", "$.deployment_blockers[0].effort_hours: \"3\" read as 3"],
            result.Coercions);
    }

    [Fact]
    public void Number_schema_keeps_fractions_and_reads_numeric_strings()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"confidence":{"type":"number","minimum":0,"maximum":1}}}""");
        var reader = new JsonOutputReader(schema.RootElement);

        var fraction = reader.Read("""{"confidence": "0.85"}""");
        var over = reader.Read("""{"confidence": 1.5}""");

        Assert.True(fraction.IsValid, fraction.Describe());
        Assert.Equal(0.85m, fraction.Value!["confidence"]!.GetValue<decimal>());
        Assert.Equal(1m, over.Value!["confidence"]!.GetValue<decimal>());
        Assert.Equal(["$.confidence: 1.5 is out of range, clamped to 1"], over.Coercions);
    }

    [Fact]
    public void Null_for_an_optional_property_is_left_for_the_schema_to_judge()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"note":{"type":["string","null"]},"score":{"type":"integer"}},"required":["score"]}""");

        var result = new JsonOutputReader(schema.RootElement).Read("""{"note": null, "score": 3}""");

        Assert.True(result.IsValid, result.Describe());
        Assert.Null(result.Value!["note"]);
        Assert.True(result.Value.AsObject().ContainsKey("note"));
        Assert.Empty(result.Coercions);
    }

    [Fact]
    public void A_missing_required_score_is_reported_not_invented()
    {
        var answer = """{"overall_assessment": "Promising", "top_priorities": ["Add tests"], "borg_tools_fit": "6"}""";

        var result = AggregatedReader.Read(answer);

        Assert.False(result.IsValid);
        Assert.False(result.Value!.AsObject().ContainsKey("vibecodibility_score"));
        Assert.Equal(6, result.Value["borg_tools_fit"]!.GetValue<int>());
        Assert.Equal(new JsonOutputProblem("$.vibecodibility_score", "required property 'vibecodibility_score' is missing"), Assert.Single(result.Problems));
    }
}
