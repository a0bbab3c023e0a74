namespace Baton.Pipelines.Outputs;

/// <summary>One reason a model's JSON answer was not accepted.</summary>
/// <param name="Path">Where in the answer the problem is, as a JSON path such as <c>$.market_viability</c>
/// or <c>$.deployment_blockers[2].severity</c>; <c>$</c> for the answer as a whole.</param>
/// <param name="Message">What is wrong, in words a model can act on.</param>
public sealed record JsonOutputProblem(string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Message}";
}
