using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using Baton.Caching;
using Baton.Configuration;
using Baton.Gateway.Endpoints;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton cache stats|purge</c>: the response cache's size and hit rate, or emptying it. With <c>--url</c>
/// it asks a running gateway (whose hit counts are live); otherwise it opens the configured SQLite file.
/// </summary>
internal static class CacheCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("cache", "Inspect or empty the response cache.");
        command.Subcommands.Add(Stats(console));
        command.Subcommands.Add(Purge(console));
        return command;
    }

    private static Option<string?> Url() => new("--url") { Description = "Ask a running gateway (e.g. http://127.0.0.1:8080) instead of opening the cache file." };

    private static Command Stats(CliConsole console)
    {
        var config = CommonOptions.Config();
        var url = Url();
        var format = CommonOptions.Format();
        var command = new Command("stats", "Entries, bytes, hits, misses and hit rate.") { config, url, format };
        command.SetAction(async (parse, cancellationToken) =>
        {
            CacheStatsResponse? stats;
            if (parse.GetValue(url) is { } gateway)
            {
                stats = await GatewayCall.SendAsync(console, gateway, http => http.GetFromJsonAsync<CacheStatsResponse>("v1/cache/stats", cancellationToken));
            }
            else
            {
                stats = await Local(console, parse.GetValue(config), async store =>
                {
                    var (entries, bytes) = await store.SizeAsync(cancellationToken);
                    return new CacheStatsResponse(CacheModes.On, entries, bytes, 0, 0, 0);
                });
            }
            if (stats is null)
            {
                return 1;
            }
            if (parse.GetValue(format) == CommonOptions.JsonFormat)
            {
                CommonOptions.WriteJson(console, stats);
                return 0;
            }
            var table = new Table().AddColumn("Mode").AddColumn("Entries").AddColumn("Bytes").AddColumn("Hits").AddColumn("Misses").AddColumn("Hit rate");
            table.AddRow(stats.Mode, N(stats.Entries), N(stats.Bytes), N(stats.Hits), N(stats.Misses), stats.HitRate.ToString("P1", CultureInfo.InvariantCulture));
            console.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Purge(CliConsole console)
    {
        var config = CommonOptions.Config();
        var url = Url();
        var model = new Option<string?>("--model") { Description = "Only this model's answers." };
        var command = new Command("purge", "Empty the cache, or one model's part of it.") { config, url, model };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var only = parse.GetValue(model);
            CachePurgeResponse? purged;
            if (parse.GetValue(url) is { } gateway)
            {
                var query = only is null ? "" : "?model=" + Uri.EscapeDataString(only);
                purged = await GatewayCall.SendAsync(console, gateway, async http =>
                {
                    using var response = await http.DeleteAsync("v1/cache" + query, cancellationToken);
                    return await response.Content.ReadFromJsonAsync<CachePurgeResponse>(cancellationToken);
                });
            }
            else
            {
                purged = await Local(console, parse.GetValue(config), async store => new CachePurgeResponse(await store.PurgeAsync(only, cancellationToken)));
            }
            if (purged is null)
            {
                return 1;
            }
            console.Out.MarkupLine($"Deleted {purged.Deleted} cached answer(s){(only is null ? "" : $" of model {Markup.Escape(only)}")}.");
            return 0;
        });
        return command;
    }

    /// <summary>Opens the configured cache file; a memory cache lives only inside a running gateway.</summary>
    private static async Task<T?> Local<T>(CliConsole console, string? configFile, Func<ICacheStore, ValueTask<T>> use) where T : class
    {
        var loaded = CommonOptions.Load(console, configFile);
        if (loaded is null)
        {
            return null;
        }
        var cache = loaded.Options.Cache;
        if (string.Equals(cache.Store, CacheStores.Memory, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(cache.Store, CacheStores.Redis, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(cache.Mode ?? CacheModes.Off, CacheModes.Off, StringComparison.OrdinalIgnoreCase))
        {
            console.Error.WriteLine("baton: this configuration keeps no cache file (cache.mode is off, or cache.store is memory or redis); use --url to ask a running gateway.");
            return null;
        }
        using var store = CacheStores.Create(cache, TimeProvider.System);
        return await use(store);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
