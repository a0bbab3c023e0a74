using Baton.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Baton.Routing;

/// <summary>
/// Holds the task routing table in force. <see cref="Reload"/> swaps in a new one after checking it, so that
/// tasks and tiers can be edited while the gateway runs; a broken edit is refused and the old table stays.
/// Given the configuration it came from, it reloads by itself whenever that configuration changes (the
/// configuration file is watched). Models and providers are not reloaded: changing them needs a restart.
/// </summary>
public sealed partial class TaskRouter : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile TaskRoutingTable _table;

    /// <summary>A router starting with the table of <paramref name="options"/>.</summary>
    /// <param name="options">The configuration the table is built from.</param>
    /// <param name="reloadFrom">The configuration to reload tasks and tiers from when it changes; null never reloads.</param>
    /// <param name="logger">Where reloads and refused edits are reported; null for none.</param>
    public TaskRouter(BatonOptions options, IConfiguration? reloadFrom = null, ILogger<TaskRouter>? logger = null)
    {
        _table = TaskRoutingTable.Build(options);
        if (reloadFrom is not null)
        {
            var models = options.Models.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
            _subscription = ChangeToken.OnChange(reloadFrom.GetReloadToken, () => ReloadFrom(reloadFrom, models, logger));
        }
    }

    /// <summary>The table in force; read it once per request, so that a reload mid-request changes nothing for it.</summary>
    public TaskRoutingTable Table => _table;

    /// <summary>Replaces the table with one built from <paramref name="updated"/>; returns the problems instead when it is not valid.</summary>
    public IReadOnlyList<string> Reload(BatonOptions updated, ICollection<string> models)
    {
        var table = TaskRoutingTable.Build(updated);
        var errors = table.Validate(models);
        if (errors.Count == 0)
        {
            _table = table;
        }
        return errors;
    }

    /// <summary>Stops watching the configuration for changes; the table in force stays.</summary>
    public void Dispose() => _subscription?.Dispose();

    private void ReloadFrom(IConfiguration configuration, ICollection<string> models, ILogger? logger)
    {
        IReadOnlyList<string> errors;
        try
        {
            errors = Reload(BatonConfigurationLoader.Bind(configuration), models);
        }
        catch (BatonConfigurationException ex)
        {
            errors = ex.Errors;
        }
        if (logger is null)
        {
            return;
        }
        if (errors.Count == 0)
        {
            Log.Reloaded(logger, _table.Tasks.Count, _table.Tiers.Count);
        }
        else
        {
            Log.Refused(logger, string.Join(" ", errors));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Task routing reloaded: {Tasks} tasks, {Tiers} tiers")]
        public static partial void Reloaded(ILogger logger, int tasks, int tiers);

        [LoggerMessage(2, LogLevel.Warning, "Task routing change refused, the previous table stays in force: {Errors}")]
        public static partial void Refused(ILogger logger, string errors);
    }
}
