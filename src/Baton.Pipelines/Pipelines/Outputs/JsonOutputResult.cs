using System.Text;
using System.Text.Json.Nodes;

namespace Baton.Pipelines.Outputs;

/// <summary>What <see cref="JsonOutputReader.Read"/> made of a model's answer.</summary>
/// <param name="Value">The JSON read from the answer, after the schema-guided coercions; null when no JSON was found.
/// It may be present together with problems, when the JSON parsed but failed validation.</param>
/// <param name="Problems">Every reason the value is not acceptable, each at its JSON path; empty when it is.</param>
/// <param name="Coercions">One readable line per value that was adjusted to fit the schema (such as <c>"7"</c> read as 7).</param>
public sealed record JsonOutputResult(JsonNode? Value, IReadOnlyList<JsonOutputProblem> Problems, IReadOnlyList<string> Coercions)
{
    /// <summary>True when the answer held a JSON value that satisfies the schema.</summary>
    public bool IsValid => Value is not null && Problems.Count == 0;

    /// <summary>
    /// One message listing every problem by JSON path, fit to send back to the model
    /// ("your answer failed validation: …") and to put in an error report.
    /// </summary>
    public string Describe()
    {
        if (Problems.Count == 0)
        {
            return IsValid ? "the answer is valid JSON matching the schema" : "no JSON value was read from the answer";
        }

        if (Problems.Count == 1)
        {
            return Problems[0].ToString();
        }

        var message = new StringBuilder();
        message.Append(Problems.Count).Append(" problems:");
        foreach (var problem in Problems)
        {
            message.Append('\n').Append("- ").Append(problem);
        }

        return message.ToString();
    }
}
