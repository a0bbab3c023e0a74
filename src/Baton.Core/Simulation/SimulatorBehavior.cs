namespace Baton.Simulation;

/// <summary>How a simulated model paces its answers. All zero means "answer at once".</summary>
public sealed class SimulatorBehavior
{
    /// <summary>Delay before anything is answered, in milliseconds.</summary>
    public double LatencyMs { get; set; }

    /// <summary>Further delay before the first token, in milliseconds.</summary>
    public double TimeToFirstTokenMs { get; set; }

    /// <summary>Pace of the tokens after the first; 0 means no pacing.</summary>
    public double TokensPerSecond { get; set; }

    /// <summary>Words in a text answer after its opening; 0 means 12 to 35, chosen by the prompt.</summary>
    public int AnswerWords { get; set; }

    /// <summary>A copy that can be changed without changing this one.</summary>
    public SimulatorBehavior Clone() => (SimulatorBehavior)MemberwiseClone();
}
