namespace Baton.Configuration;

/// <summary>The configuration is unusable; <see cref="Errors"/> lists every problem with its key path.</summary>
public sealed class BatonConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid Baton configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    /// <summary>Every problem found, one message each, starting with the configuration key at fault (<c>providers.x.type: ...</c>).</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
