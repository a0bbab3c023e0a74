namespace Baton.Pipelines;

/// <summary>A pipeline file that cannot be used; <see cref="Errors"/> names every problem with its place.</summary>
public sealed class PipelineDefinitionException(IReadOnlyList<string> errors)
    : Exception("The pipeline is not valid: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>A run's input that does not fill the pipeline's templates; <see cref="Errors"/> names each placeholder.</summary>
public sealed class PipelineInputException(IReadOnlyList<string> errors)
    : Exception("The pipeline's input is not complete: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
