using System.Text.Json;

namespace Baton.Core.Tests.Pipelines.Outputs;

/// <summary>The four analysis outputs of the project-scanner pipeline, written as the JSON Schemas its steps declare.</summary>
internal static class AnalysisSchemas
{
    public static JsonElement Architect { get; } = Parse("""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "architecture_assessment": { "type": "string" },
            "design_patterns": { "type": "array", "items": { "type": "string" } },
            "scalability_notes": { "type": "string" },
            "technical_debt_priority": { "type": "string", "enum": ["low", "medium", "high", "critical"] }
          },
          "required": ["architecture_assessment", "design_patterns", "scalability_notes", "technical_debt_priority"],
          "additionalProperties": false
        }
        """);

    public static JsonElement Deployment { get; } = Parse("""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "deployment_strategy": { "type": "string" },
            "infrastructure_recommendations": { "type": "string" },
            "deployment_blockers": {
              "type": "array",
              "items": { "$ref": "#/$defs/blocker" }
            },
            "mvp_roadmap": { "type": "array", "items": { "type": "string" }, "minItems": 1 }
          },
          "required": ["deployment_strategy", "infrastructure_recommendations", "deployment_blockers", "mvp_roadmap"],
          "$defs": {
            "blocker": {
              "type": "object",
              "properties": {
                "issue": { "type": "string" },
                "severity": { "type": "string", "enum": ["low", "medium", "high", "critical"] },
                "effort_hours": { "type": "integer", "minimum": 0 }
              },
              "required": ["issue", "severity"]
            }
          }
        }
        """);

    public static JsonElement Business { get; } = Parse("""
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "problem_solved": { "type": "string" },
            "target_audience": { "type": "string" },
            "monetization_strategy": { "type": "string" },
            "market_viability": { "type": "integer", "minimum": 0, "maximum": 10 },
            "portfolio_suitable": { "type": "boolean" },
            "portfolio_pitch": { "type": "string" }
          },
          "required": ["problem_solved", "target_audience", "monetization_strategy", "market_viability", "portfolio_suitable", "portfolio_pitch"]
        }
        """);

    public static JsonElement Aggregated { get; } = Parse("""
        {
          "type": "object",
          "properties": {
            "overall_assessment": { "type": "string" },
            "top_priorities": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
            "vibecodibility_score": { "type": "integer", "minimum": 0, "maximum": 10 },
            "borg_tools_fit": { "type": "integer", "minimum": 0, "maximum": 10 }
          },
          "required": ["overall_assessment", "top_priorities", "vibecodibility_score", "borg_tools_fit"]
        }
        """);

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
