namespace Baton.Routing;

/// <summary>
/// Baton's built-in task types and tiers: seed 002's five tiers (orchestrator, reasoning, coding, general,
/// fast) with its sixteen tasks, and seed 004's nine task types mapped onto the same tiers. Configuration
/// adds tasks and overrides any of these; tiers get their models from configuration.
/// </summary>
public static class DefaultTaskMap
{
    /// <summary>Planning and critical decisions: the most capable models. Falls back to <see cref="Reasoning"/>.</summary>
    public const string Orchestrator = "orchestrator";
    /// <summary>Analysis that needs reasoning. Falls back to <see cref="General"/>.</summary>
    public const string Reasoning = "reasoning";
    /// <summary>Writing and reviewing code. Falls back to <see cref="General"/>.</summary>
    public const string Coding = "coding";
    /// <summary>Everyday tasks. Falls back to <see cref="Fast"/>.</summary>
    public const string General = "general";
    /// <summary>Simple, high-volume tasks: the cheapest, quickest models. The last tier, with no fallback.</summary>
    public const string Fast = "fast";

    /// <summary>The built-in tiers, most capable first; configuration gives them their models.</summary>
    public static readonly string[] Tiers = [Orchestrator, Reasoning, Coding, General, Fast];

    /// <summary>Where each tier falls back when all its models fail: one step cheaper.</summary>
    public static readonly IReadOnlyDictionary<string, string> FallbackTiers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [Orchestrator] = Reasoning,
        [Reasoning] = General,
        [Coding] = General,
        [General] = Fast,
    };

    /// <summary>The built-in task types and the tier each maps to (case-insensitive); configured <c>tasks</c> add to and override them.</summary>
    public static readonly IReadOnlyDictionary<string, string> Tasks = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // Seed 002: orchestration and critical decisions.
        ["plan_crawl_strategy"] = Orchestrator,
        ["validate_critical_bug"] = Orchestrator,
        ["quality_gate"] = Orchestrator,
        ["orchestrate_session"] = Orchestrator,
        // Seed 002: reasoning and analysis.
        ["analyze_page"] = Reasoning,
        ["classify_bug"] = Reasoning,
        ["deduplicate_bugs"] = Reasoning,
        ["evaluate_severity"] = Reasoning,
        // Seed 002: code.
        ["generate_edge_cases"] = Coding,
        ["propose_fix"] = Coding,
        ["analyze_stack_trace"] = Coding,
        ["review_code"] = Coding,
        // Seed 002: general.
        ["extract_navigation"] = General,
        ["parse_console_logs"] = General,
        ["identify_elements"] = General,
        ["extract_forms"] = General,
        // Seed 002: fast and simple.
        ["format_ticket"] = Fast,
        ["summarize_session"] = Fast,
        ["generate_title"] = Fast,
        ["categorize_simple"] = Fast,
        // Seed 004's task types.
        ["code_generation"] = Coding,
        ["code_completion"] = Coding,
        ["code_optimization"] = Coding,
        ["refactoring"] = Coding,
        ["testing"] = Coding,
        ["analysis"] = Reasoning,
        ["documentation"] = General,
        ["explanation"] = General,
        ["general"] = General,
    };
}
