using Baton.Configuration;
using Baton.Errors;

namespace Baton.Routing;

/// <summary>Where a task goes: its tier, and the models to try in order (the tier's, then its fallback tiers').</summary>
public sealed record TaskRoute(string Task, string Tier, IReadOnlyList<string> Models);

/// <summary>
/// An immutable task → tier → models table, built from the built-in map and the configuration. A new
/// table replaces the old one on reload, so a request always sees one consistent version.
/// </summary>
public sealed class TaskRoutingTable
{
    private readonly Dictionary<string, string> _tasks;
    private readonly Dictionary<string, TierOptions> _tiers;

    private TaskRoutingTable(Dictionary<string, string> tasks, Dictionary<string, TierOptions> tiers, string? defaultModel)
    {
        _tasks = tasks;
        _tiers = tiers;
        DefaultModel = string.IsNullOrWhiteSpace(defaultModel) ? null : defaultModel;
    }

    /// <summary><c>routing.defaultModel</c>: where <c>auto</c> goes when no tier has a model for the task.</summary>
    public string? DefaultModel { get; }

    /// <summary>Every task type and its tier: the built-in ones and the configured ones, case-insensitive.</summary>
    public IReadOnlyDictionary<string, string> Tasks => _tasks;

    /// <summary>Every tier with its models and fallback tier: the built-in ones (with no models unless configured) and the configured ones.</summary>
    public IReadOnlyDictionary<string, TierOptions> Tiers => _tiers;

    /// <summary>The table of <paramref name="options"/> over the built-in map; not yet validated (see <see cref="Validate"/>).</summary>
    public static TaskRoutingTable Build(BatonOptions options)
    {
        var tasks = new Dictionary<string, string>(DefaultTaskMap.Tasks, StringComparer.OrdinalIgnoreCase);
        foreach (var (task, tier) in options.Tasks)
        {
            tasks[task] = tier;
        }
        var tiers = new Dictionary<string, TierOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var tier in DefaultTaskMap.Tiers)
        {
            tiers[tier] = new TierOptions { FallbackTier = DefaultTaskMap.FallbackTiers.GetValueOrDefault(tier) };
        }
        foreach (var (name, tier) in options.Tiers)
        {
            tiers[name] = new TierOptions { Models = [.. tier.Models], FallbackTier = tier.FallbackTier ?? tiers.GetValueOrDefault(name)?.FallbackTier };
        }
        return new TaskRoutingTable(tasks, tiers, options.Routing.DefaultModel);
    }

    /// <summary>Problems with the table against the configured models, each naming its key.</summary>
    public IReadOnlyList<string> Validate(ICollection<string> models)
    {
        var errors = new List<string>();
        if (DefaultModel is { } defaultModel && !models.Contains(defaultModel))
        {
            errors.Add($"routing.defaultModel: '{defaultModel}' is not a configured model.");
        }
        foreach (var (task, tier) in _tasks)
        {
            if (!_tiers.ContainsKey(tier))
            {
                errors.Add($"tasks.{task}: '{tier}' is not a tier (tiers: {string.Join(", ", _tiers.Keys)}).");
            }
        }
        foreach (var (name, tier) in _tiers)
        {
            for (var i = 0; i < tier.Models.Count; i++)
            {
                if (!models.Contains(tier.Models[i]))
                {
                    errors.Add($"tiers.{name}.models[{i}]: '{tier.Models[i]}' is not a configured model.");
                }
            }
            if (tier.FallbackTier is { } fallback && !_tiers.ContainsKey(fallback))
            {
                errors.Add($"tiers.{name}.fallbackTier: '{fallback}' is not a tier.");
            }
        }
        return errors;
    }

    /// <summary>
    /// The route of a task. When its tiers have no models, the request's own fallbacks are the route, else
    /// <c>routing.defaultModel</c>; with neither, a 400 naming the task and the keys that would route it.
    /// </summary>
    public TaskRoute Resolve(string task, IReadOnlyList<string>? requestFallbacks = null)
    {
        if (!_tasks.TryGetValue(task, out var tier))
        {
            throw BatonException.InvalidRequest(
                $"Unknown task '{task}'. Known tasks: {string.Join(", ", _tasks.Keys.Order(StringComparer.OrdinalIgnoreCase))}.",
                "metadata.task", "unknown_task");
        }
        var models = new List<string>();
        var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var current = tier; current is not null && visited.Add(current) && _tiers.TryGetValue(current, out var options); current = options.FallbackTier)
        {
            models.AddRange(options.Models.Where(m => !models.Contains(m, StringComparer.OrdinalIgnoreCase)));
        }
        if (models.Count == 0 && requestFallbacks is { Count: > 0 })
        {
            models.AddRange(requestFallbacks);
        }
        else if (models.Count == 0 && DefaultModel is { } defaultModel)
        {
            models.Add(defaultModel);
        }
        if (models.Count == 0)
        {
            throw BatonException.InvalidRequest(
                $"Task '{task}' maps to tier '{tier}', but no model is configured for it or its fallback tiers. " +
                $"Add models under tiers.{tier}.models in the configuration, or set routing.defaultModel, " +
                "or name the models to try in the request (metadata.fallbacks or the X-Baton-Fallbacks header).",
                "metadata.task", "task_not_routable");
        }
        return new TaskRoute(task, tier, models);
    }
}
