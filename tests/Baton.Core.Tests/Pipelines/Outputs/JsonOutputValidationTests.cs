using System.Text.Json;
using Baton.Pipelines.Outputs;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>Answers that parse but do not fit the schema: every problem at its JSON path, in words a model can act on.</summary>
public sealed class JsonOutputValidationTests
{
    private const string ValidDeployment = """
        {
          "deployment_strategy": "Containerise and deploy to a single VPS behind Caddy",
          "infrastructure_recommendations": "One 2 vCPU VM, managed Postgres, nightly backups",
          "deployment_blockers": [
            {"issue": "Secrets are committed in config.py", "severity": "critical", "effort_hours": 2},
            {"issue": "No health endpoint", "severity": "medium"}
          ],
          "mvp_roadmap": ["Move secrets to environment", "Add /health", "Write Dockerfile"]
        }
        """;

    private static readonly JsonOutputReader DeploymentReader = new(AnalysisSchemas.Deployment);

    [Fact]
    public void The_four_analysis_outputs_validate_when_well_formed()
    {
        var architect = new JsonOutputReader(AnalysisSchemas.Architect).Read("""
            {"architecture_assessment": "Flask monolith with a clear service layer",
             "design_patterns": ["Repository", "Factory"],
             "scalability_notes": "Stateless; scale horizontally once sessions move to Redis",
             "technical_debt_priority": "medium"}
            """);
        var deployment = DeploymentReader.Read(ValidDeployment);
        var business = new JsonOutputReader(AnalysisSchemas.Business).Read("""
            {"problem_solved": "Finding which side project to finish", "target_audience": "Indie developers",
             "monetization_strategy": "Open core", "market_viability": 7, "portfolio_suitable": true,
             "portfolio_pitch": "Turns a messy projects folder into a ranked shipping plan."}
            """);
        var aggregated = new JsonOutputReader(AnalysisSchemas.Aggregated).Read("""
            {"overall_assessment": "Worth finishing", "top_priorities": ["Secrets", "Health check", "Docker"],
             "vibecodibility_score": 8, "borg_tools_fit": 9}
            """);

        Assert.All([architect, deployment, business, aggregated], result => Assert.True(result.IsValid, result.Describe()));
        Assert.Equal(["Repository", "Factory"], architect.Value!["design_patterns"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("critical", deployment.Value!["deployment_blockers"]![0]!["severity"]!.GetValue<string>());
        Assert.Equal(7, business.Value!["market_viability"]!.GetValue<int>());
        Assert.Equal(9, aggregated.Value!["borg_tools_fit"]!.GetValue<int>());
        Assert.All([architect, deployment, business, aggregated], result => Assert.Empty(result.Coercions));
    }

    [Fact]
    public void Wrong_type_in_a_nested_array_item_is_reported_at_its_path()
    {
        var answer = ValidDeployment.Replace("\"severity\": \"critical\"", "\"severity\": 5", StringComparison.Ordinal);

        var result = DeploymentReader.Read(answer);

        Assert.False(result.IsValid);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("$.deployment_blockers[0].severity", problem.Path);
        Assert.Equal("must be one of \"low\", \"medium\", \"high\", \"critical\", got 5", problem.Message);
    }

    [Fact]
    public void A_string_where_an_object_item_is_wanted_is_reported_at_the_item()
    {
        var answer = ValidDeployment.Replace("{\"issue\": \"No health endpoint\", \"severity\": \"medium\"}", "\"No health endpoint\"", StringComparison.Ordinal);

        var result = DeploymentReader.Read(answer);

        Assert.Equal(new JsonOutputProblem("$.deployment_blockers[1]", "must be an object, got \"No health endpoint\""), Assert.Single(result.Problems));
    }

    [Fact]
    public void Missing_required_properties_are_each_reported_and_never_invented()
    {
        var result = new JsonOutputReader(AnalysisSchemas.Aggregated).Read("""{"overall_assessment": "Fine", "borg_tools_fit": 4}""");

        Assert.False(result.IsValid);
        Assert.Equal(
            [
                new JsonOutputProblem("$.top_priorities", "required property 'top_priorities' is missing"),
                new JsonOutputProblem("$.vibecodibility_score", "required property 'vibecodibility_score' is missing"),
            ],
            result.Problems);
        Assert.Equal(["overall_assessment", "borg_tools_fit"], result.Value!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Missing_property_inside_an_array_item_is_reported_at_the_item()
    {
        var answer = ValidDeployment.Replace("\"issue\": \"No health endpoint\", ", "", StringComparison.Ordinal);

        var result = DeploymentReader.Read(answer);

        Assert.Equal(new JsonOutputProblem("$.deployment_blockers[1].issue", "required property 'issue' is missing"), Assert.Single(result.Problems));
    }

    [Fact]
    public void Empty_list_below_min_items_is_a_problem()
    {
        var answer = ValidDeployment.Replace("[\"Move secrets to environment\", \"Add /health\", \"Write Dockerfile\"]", "[]", StringComparison.Ordinal);

        var result = DeploymentReader.Read(answer);

        Assert.Equal(new JsonOutputProblem("$.mvp_roadmap", "must be an array of at least 1 item, got 0 items"), Assert.Single(result.Problems));
    }

    [Fact]
    public void Property_the_schema_does_not_allow_is_named()
    {
        var answer = """{"architecture_assessment": "a", "design_patterns": [], "scalability_notes": "s", "technical_debt_priority": "low", "confidence": 0.9}""";

        var result = new JsonOutputReader(AnalysisSchemas.Architect).Read(answer);

        Assert.Equal(new JsonOutputProblem("$.confidence", "property 'confidence' is not allowed here"), Assert.Single(result.Problems));
    }

    [Fact]
    public void A_fractional_effort_where_an_integer_is_wanted_is_not_rounded()
    {
        var answer = ValidDeployment.Replace("\"effort_hours\": 2", "\"effort_hours\": 2.5", StringComparison.Ordinal);

        var result = DeploymentReader.Read(answer);

        Assert.Equal(new JsonOutputProblem("$.deployment_blockers[0].effort_hours", "must be an integer of at least 0, got 2.5"), Assert.Single(result.Problems));
        Assert.Equal(2.5m, result.Value!["deployment_blockers"]![0]!["effort_hours"]!.GetValue<decimal>());
    }

    [Fact]
    public void Several_problems_are_described_in_one_message_for_the_re_ask()
    {
        var answer = """{"problem_solved": "p", "target_audience": 3, "monetization_strategy": "m", "market_viability": "high", "portfolio_pitch": "pp"}""";

        var result = new JsonOutputReader(AnalysisSchemas.Business).Read(answer);

        Assert.Equal(3, result.Problems.Count);
        Assert.Equal(
            """
            3 problems:
            - $.portfolio_suitable: required property 'portfolio_suitable' is missing
            - $.target_audience: must be a string, got 3
            - $.market_viability: must be an integer between 0 and 10, got "high"
            """.ReplaceLineEndings("\n"),
            result.Describe());
    }

    [Fact]
    public void One_problem_is_described_on_one_line()
    {
        var result = new JsonOutputReader(AnalysisSchemas.Aggregated).Read("""{"overall_assessment": "x", "top_priorities": ["a"], "vibecodibility_score": 5}""");

        Assert.Equal("$.borg_tools_fit: required property 'borg_tools_fit' is missing", result.Describe());
    }

    [Fact]
    public void Property_names_that_are_not_identifiers_are_bracketed_in_paths()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"first name":{"type":"string"}}}""");

        var result = new JsonOutputReader(schema.RootElement).Read("""{"first name": 1}""");

        Assert.Equal(new JsonOutputProblem("$[\"first name\"]", "must be a string, got 1"), Assert.Single(result.Problems));
    }

    [Fact]
    public void A_branch_of_any_of_that_fails_is_not_reported_when_another_passes()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"v":{"anyOf":[{"type":"string"},{"type":"integer"}]},"w":{"type":"boolean"}},"required":["v","w"]}""");
        var reader = new JsonOutputReader(schema.RootElement);

        var oneWrong = reader.Read("""{"v": 3, "w": 1}""");
        var bothBranchesFail = reader.Read("""{"v": true, "w": true}""");

        Assert.Equal(new JsonOutputProblem("$.w", "must be a boolean, got 1"), Assert.Single(oneWrong.Problems));
        Assert.Equal(2, bothBranchesFail.Problems.Count);
        Assert.All(bothBranchesFail.Problems, problem => Assert.Equal("$.v", problem.Path));
        Assert.Contains(bothBranchesFail.Problems, problem => problem.Message.Contains("\"integer\"", StringComparison.Ordinal));
    }

    [Fact]
    public void One_reader_gives_the_same_results_from_many_threads_at_once()
    {
        var broken = ValidDeployment.Replace("\"severity\": \"critical\"", "\"severity\": 5", StringComparison.Ordinal);
        var outcomes = new string[400];

        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var result = DeploymentReader.Read(i % 2 == 0 ? ValidDeployment : broken);
            outcomes[i] = result.IsValid ? "valid" : result.Describe();
        });

        Assert.All(outcomes.Where((_, i) => i % 2 == 0), outcome => Assert.Equal("valid", outcome));
        Assert.All(
            outcomes.Where((_, i) => i % 2 == 1),
            outcome => Assert.Equal("$.deployment_blockers[0].severity: must be one of \"low\", \"medium\", \"high\", \"critical\", got 5", outcome));
    }

    [Theory]
    [InlineData("""{"type": 5}""")]
    [InlineData("""{"minimum": "a"}""")]
    [InlineData("""{"properties": {"a": 3}}""")]
    [InlineData("""{"$ref": "#/$defs/missing"}""")]
    [InlineData("""{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}""")]
    public void A_schema_that_cannot_be_built_is_refused_when_the_reader_is_made(string schemaJson)
    {
        using var schema = JsonDocument.Parse(schemaJson);

        var exception = Assert.Throws<ArgumentException>(() => new JsonOutputReader(schema.RootElement));

        Assert.Equal("schema", exception.ParamName);
        Assert.StartsWith("The JSON Schema cannot be used: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_schema_that_refers_outside_itself_fails_loudly_rather_than_blaming_the_model()
    {
        using var schema = JsonDocument.Parse("""{"type": "object", "properties": {"a": {"$ref": "https://example.com/elsewhere.json"}}}""");
        var reader = new JsonOutputReader(schema.RootElement);

        var exception = Assert.Throws<InvalidOperationException>(() => reader.Read("""{"a": 1}"""));

        Assert.Contains("does not fetch", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_schema_that_is_not_an_object_is_refused()
    {
        using var schema = JsonDocument.Parse("[1, 2]");

        var exception = Assert.Throws<ArgumentException>(() => new JsonOutputReader(schema.RootElement));

        Assert.Equal("schema", exception.ParamName);
    }
}
