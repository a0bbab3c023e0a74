using System.Text.Json.Nodes;
using Baton.Analysis;
using Baton.Pipelines;

namespace Baton.Core.Tests.Pipelines;

public sealed class PipelineLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("baton-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_yaml_pipeline_reads_its_prompt_files_and_types_its_scalars()
    {
        Write("summary.txt", "Summarise {{ doc.title }}:\n{{doc.body}}");
        Write("verdict.txt", "Given {{steps.summary}}, give a verdict.");
        var path = Write("review.yaml", """
            name: review
            version: 3
            steps:
              summary:
                model: fast
                prompt: summary.txt
                temperature: 0.2
                maxTokens: 300
              verdict:
                task: code_review
                prompt: verdict.txt
                output: json
                responseFormat: false
                schema:
                  type: object
                  required: [score]
                  properties:
                    score: { type: integer, minimum: 0, maximum: 10 }
                fallback: { score: 0 }
            """);

        var pipeline = PipelineLoader.LoadFile(path);

        Assert.Equal("review", pipeline.Name);
        Assert.Equal("3", pipeline.Version);
        Assert.Equal(["summary", "verdict"], pipeline.Steps.Select(s => s.Name));
        var summary = pipeline.Steps[0];
        Assert.Equal("fast", summary.Model);
        Assert.Equal(0.2, summary.Temperature);
        Assert.Equal(300, summary.MaxTokens);
        Assert.Equal(["doc.title", "doc.body"], summary.Prompt.Placeholders);
        var verdict = pipeline.Steps[1];
        Assert.Equal("code_review", verdict.Task);
        Assert.Null(verdict.Model);
        Assert.Equal(PipelineOutputKind.Json, verdict.Output);
        Assert.False(verdict.UseResponseFormat);
        Assert.Equal(["summary"], verdict.Needs);
        Assert.Equal(10, verdict.Schema!.Value.GetProperty("properties").GetProperty("score").GetProperty("maximum").GetInt32());
        Assert.Equal(0, verdict.Fallback!.Value.GetProperty("score").GetInt32());
    }

    [Fact]
    public void A_json_pipeline_may_hold_its_prompts_inline()
    {
        var path = Write("p.json", """
            { "name": "inline", "steps": { "a": { "model": "m", "promptText": "Say {{word}}" },
                                           "b": { "model": "m", "promptText": "Repeat", "needs": ["a"] } } }
            """);

        var pipeline = PipelineLoader.LoadFile(path);

        Assert.Equal("1", pipeline.Version);
        Assert.Equal("Say {{word}}", pipeline.Steps[0].Prompt.Text);
        Assert.Equal(["a"], pipeline.Steps[1].Needs);
    }

    [Fact]
    public void Every_problem_of_a_pipeline_is_reported_with_its_place()
    {
        var path = Write("bad.yaml", """
            name: bad
            colour: blue
            steps:
              a:
                model: m
                task: t
                prompt: missing.txt
                output: xml
                temperature: 3
              b:
                promptText: "Use {{steps.nowhere}}"
                schema: { type: object }
            """);

        var error = Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(path));

        Assert.Contains(error.Errors, e => e.Contains("unknown key 'colour'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.a: give either 'model'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.a.prompt: the file 'missing.txt' does not exist", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.a.output: 'xml'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.a.temperature: between 0 and 2", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.b: give either 'model'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("steps.b: a 'schema' needs \"output\": \"json\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Steps_that_use_an_unknown_step_or_each_other_in_a_cycle_are_refused()
    {
        var unknown = Write("unknown.json", """{"name":"u","steps":{"a":{"model":"m","promptText":"{{steps.ghost}}"}}}""");
        var cycle = Write("cycle.json", """
            {"name":"c","steps":{
              "a":{"model":"m","promptText":"{{steps.c}}"},
              "b":{"model":"m","promptText":"{{steps.a}}"},
              "c":{"model":"m","promptText":"x","needs":["b"]}}}
            """);

        Assert.Contains("uses the step 'ghost', which the pipeline does not have",
            Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(unknown)).Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("cycle: a -> c -> b -> a",
            Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(cycle)).Errors.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Schemas_that_cannot_be_built_duplicate_steps_and_fields_of_text_steps_are_refused_at_load()
    {
        var badSchema = Write("schema.json", """{"name":"s","steps":{"a":{"model":"m","promptText":"x","output":"json","schema":{"$ref":"#/$defs/missing"}}}}""");
        var twice = Write("twice.json", """{"name":"t","steps":{"a":{"model":"m","promptText":"x"},"a":{"model":"m","promptText":"y"}}}""");
        var textField = Write("text.json", """{"name":"f","steps":{"a":{"model":"m","promptText":"x"},"b":{"model":"m","promptText":"{{steps.a.title}}"}}}""");

        Assert.StartsWith("schema.json: steps.a.schema:", Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(badSchema)).Errors.Single(), StringComparison.Ordinal);
        Assert.StartsWith("twice.json:", Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(twice)).Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("the step 'a' answers text, which has no fields",
            Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(textField)).Errors.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Files_that_are_not_json_or_yaml_are_reported_not_thrown_raw()
    {
        var json = Write("broken.json", "{ \"name\": ");
        var yaml = Write("broken.yaml", "name: [unclosed");
        var missing = Path.Combine(_folder, "none.yaml");

        Assert.StartsWith("broken.json:", Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(json)).Errors.Single(), StringComparison.Ordinal);
        Assert.StartsWith("broken.yaml: not valid YAML", Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(yaml)).Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<PipelineDefinitionException>(() => PipelineLoader.LoadFile(missing)).Errors.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_built_in_project_analysis_has_seed_000s_roles_and_can_be_overridden_file_by_file()
    {
        var shipped = ProjectAnalysisPipeline.Load();
        Assert.Equal(["architect", "deployment", "business", "aggregator"], shipped.Steps.Select(s => s.Name));
        Assert.Equal(["architect", "business", "deployment"], shipped.Find("aggregator")!.Needs.Order(StringComparer.Ordinal));
        Assert.All(shipped.Steps, s => Assert.Equal(PipelineOutputKind.Json, s.Output));
        Assert.Contains("project-analysis.yaml", ProjectAnalysisPipeline.Files);

        var exported = ProjectAnalysisPipeline.Export(_folder);
        Assert.Equal(ProjectAnalysisPipeline.Files.Count, exported.Count);
        File.WriteAllText(Path.Combine(_folder, "architect.txt"), "Only this: {{project.name}}");
        var overridden = ProjectAnalysisPipeline.Load(_folder);
        Assert.Contains("does not exist", Assert.Throws<PipelineDefinitionException>(() => ProjectAnalysisPipeline.Load(Path.Combine(_folder, "typo"))).Errors.Single(), StringComparison.Ordinal);
        Assert.Equal("Only this: {{project.name}}", overridden.Find("architect")!.Prompt.Text);
        Assert.Equal(shipped.Find("business")!.Prompt.Text, overridden.Find("business")!.Prompt.Text);
    }
}

public sealed class PromptTemplateTests
{
    [Fact]
    public void Strings_go_in_as_they_are_and_everything_else_as_json()
    {
        var template = PromptTemplate.Parse("{{name}} uses {{ langs }}; {{stats}}; first {{langs.0}}; {not a placeholder}", "t.txt");
        var values = JsonNode.Parse("""{"name":"demo","langs":["python","go"],"stats":{"files":3}}""")!.AsObject();

        var text = template.Render(values);

        Assert.Equal("demo uses [\n  \"python\",\n  \"go\"\n]; {\n  \"files\": 3\n}; first python; {not a placeholder}", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_placeholder_without_a_value_is_named()
    {
        var template = PromptTemplate.Parse("Hello {{project.name}} and {{project.owner}}", "greeting.txt");
        var values = JsonNode.Parse("""{"project":{"name":"demo"}}""")!.AsObject();

        Assert.Equal(["project.owner"], template.Missing(values));
        var error = Assert.Throws<PipelineInputException>(() => template.Render(values));
        Assert.Equal("greeting.txt: the placeholder {{project.owner}} has no value in the run's input.", error.Errors.Single());
    }

    [Fact]
    public void An_unclosed_placeholder_is_a_format_error_with_its_line()
    {
        var error = Assert.Throws<FormatException>(() => PromptTemplate.Parse("line one\nline {{ two", "t.txt"));
        Assert.Equal("t.txt: '{{' at line 2 has no closing '}}'.", error.Message);
    }
}
