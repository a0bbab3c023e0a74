using Baton.Configuration;
using Baton.Routing;

namespace Baton.Accounting;

/// <summary>
/// The one place prices come from, for cost tracking, budgets and the <c>cheapest</c> strategy alike. For a
/// deployment, each of its own configured price keys wins; the rest come from <c>prices</c> in configuration
/// (by deployment id, then upstream model id), else from <see cref="BuiltInPrices"/>. OpenRouter's
/// <c>:free</c> models cost nothing unless configured otherwise.
/// </summary>
public sealed class PriceTable
{
    private readonly Dictionary<string, PriceOptions> _configured;

    public PriceTable(IReadOnlyDictionary<string, PriceOptions>? configured = null)
    {
        _configured = new Dictionary<string, PriceOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, price) in configured ?? new Dictionary<string, PriceOptions>())
        {
            _configured[id] = price;
        }
    }

    /// <summary>Only the built-in table.</summary>
    public static PriceTable BuiltIn { get; } = new();

    /// <summary>The deployment's price; null when neither it, the configuration nor the built-in table prices it.</summary>
    public ModelPrice? For(Deployment deployment) => For(deployment.Id, deployment.UpstreamModel, deployment.Price);

    /// <summary>The price of an upstream model reached through a deployment with id <paramref name="deploymentId"/>.</summary>
    public ModelPrice? For(string deploymentId, string upstreamModel, PriceOptions? own = null)
    {
        var table = Table(deploymentId, upstreamModel);
        var input = own?.Input ?? table?.Input;
        var output = own?.Output ?? table?.Output;
        if (input is null || output is null)
        {
            return null;
        }
        // A configured input price without a cached-input price means no discount, not the table's discount.
        var cached = own?.CachedInput ?? (own?.Input is not null ? input : table?.CachedInput ?? input);
        var cacheWrite = own?.CacheWrite ?? (own?.Input is not null ? null : table?.CacheWrite);
        return new ModelPrice(input.Value, cached.Value, output.Value, cacheWrite);
    }

    private PriceOptions? Table(string deploymentId, string upstreamModel)
    {
        if (_configured.TryGetValue(deploymentId, out var byDeployment) || _configured.TryGetValue(upstreamModel, out byDeployment))
        {
            var fallback = Default(upstreamModel);
            return new PriceOptions
            {
                Input = byDeployment.Input ?? fallback?.Input,
                CachedInput = byDeployment.CachedInput ?? (byDeployment.Input ?? fallback?.CachedInput),
                Output = byDeployment.Output ?? fallback?.Output,
                CacheWrite = byDeployment.CacheWrite ?? (byDeployment.Input is not null ? null : fallback?.CacheWrite),
            };
        }
        return Default(upstreamModel);
    }

    private static PriceOptions? Default(string upstreamModel)
    {
        var price = upstreamModel.EndsWith(":free", StringComparison.OrdinalIgnoreCase) ? ModelPrice.Free : BuiltInPrices.Find(upstreamModel);
        return price is null ? null : new PriceOptions { Input = price.Input, CachedInput = price.CachedInput, Output = price.Output, CacheWrite = price.CacheWrite };
    }
}
