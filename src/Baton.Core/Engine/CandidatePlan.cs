using Baton.Errors;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Engine;

/// <summary>A deployment to try, and the model it serves (the requested one, or a fallback).</summary>
public readonly record struct Candidate(ModelRoute Route, Deployment Deployment, bool IsFallback);

/// <summary>
/// The order in which one request tries deployments: the requested model's deployments (ordered by its
/// strategy), then those of its fallbacks (the request's own list if it gave one, else the model's), each
/// deployment once. With the model <c>auto</c>, the request's task chooses: its tier's models, then its
/// fallback tiers'. A prompt too long for the model's context window jumps to the larger-context model.
/// </summary>
public sealed class CandidatePlan
{
    /// <summary>The model name that asks Baton to choose by task.</summary>
    public const string AutoModel = "auto";

    private readonly ModelCatalog _catalog;
    private readonly ChatRequest _request;
    private readonly Random _random;
    private readonly Accounting.PriceTable? _prices;
    private readonly string _kind;
    // The candidates in order: the first in place, the others (most models have none) in a list made for the second,
    // so that a request for a model with one deployment and no fallbacks allocates no list.
    private Candidate _first;
    private List<Candidate>? _rest;
    private int _count;
    // The deployments ever planned, kept once a second model joins the plan; before that (the common case of one
    // model) the candidates themselves say it, and the request allocates no set.
    private HashSet<string>? _planned;
    private int _next;

    /// <param name="catalog">The configured models.</param>
    /// <param name="request">The request to plan for.</param>
    /// <param name="tasks">Task routing, for the model <c>auto</c>.</param>
    /// <param name="random">For the <c>weighted</c> strategy.</param>
    /// <param name="prices">For the <c>cheapest</c> strategy.</param>
    /// <param name="kind">What the request needs (<see cref="Configuration.ModelKinds"/>): a model of another kind is refused, a fallback of another kind left out.</param>
    public CandidatePlan(ModelCatalog catalog, ChatRequest request, TaskRoutingTable tasks, Random random, Accounting.PriceTable? prices = null,
        string kind = Configuration.ModelKinds.Chat)
    {
        _catalog = catalog;
        _request = request;
        _random = random;
        _prices = prices;
        _kind = kind;
        IEnumerable<string> configuredFallbacks;
        // The lambdas below read the field, not the parameter: a lambda over a parameter would have every request,
        // routed by task or not, allocate the closure that holds it when the constructor starts.
        if (request.Pinned is { } pinned)
        {
            Requested = pinned;
            RefuseUnlessAllowed(pinned);
            Add(pinned, isFallback: false);
            return;
        }
        if (request.Model.Equals(AutoModel, StringComparison.OrdinalIgnoreCase) && !catalog.TryResolve(request.Model, out _) &&
            (request.Task is not null || tasks.DefaultModel is null))
        {
            var route = tasks.Resolve(request.Task ?? throw BatonException.InvalidRequest(
                $"The model '{AutoModel}' lets Baton choose by task: name one with the X-Baton-Task header or metadata.task " +
                "(or set routing.defaultModel in the configuration for requests without one).", "model", "task_required"), request.Fallbacks);
            Task = route;
            // Models on disabled providers are passed over; when none is left, the first one says why.
            var usable = route.Models.Where(m => !_catalog.IsDisabled(m)).ToList();
            Requested = catalog.Resolve(usable.Count > 0 ? usable[0] : route.Models[0], "metadata.fallbacks");
            configuredFallbacks = usable.Skip(1);
        }
        else if (request.Model.Equals(AutoModel, StringComparison.OrdinalIgnoreCase) && !catalog.TryResolve(request.Model, out _))
        {
            // No task, and a default model configured: "auto" means that model.
            Requested = catalog.Resolve(tasks.DefaultModel!);
            configuredFallbacks = Requested.Fallbacks;
        }
        else
        {
            Requested = catalog.Resolve(request.Model);
            configuredFallbacks = Requested.Fallbacks;
        }
        RefuseUnlessAllowed(Requested);
        Add(Requested, isFallback: false);
        // Each fallback resolved and added in turn; a loop rather than a query, as most models have none to add.
        if (request.Fallbacks is { } overridden)
        {
            foreach (var name in overridden)
            {
                if (!catalog.IsDisabled(name))
                {
                    Add(catalog.Resolve(name, "metadata.fallbacks"), isFallback: true);
                }
            }
        }
        else if (configuredFallbacks is not IReadOnlyCollection<string> { Count: 0 })
        {
            foreach (var name in configuredFallbacks)
            {
                if (!catalog.IsDisabled(name))
                {
                    Add(catalog.Resolve(name), isFallback: true);
                }
            }
        }
    }

    /// <summary>The model asked for, or the first model of the task's tier.</summary>
    public ModelRoute Requested { get; }

    /// <summary>The task route, when the request was routed by task.</summary>
    public TaskRoute? Task { get; }

    public bool TryNext(out Candidate candidate)
    {
        if (_next < _count)
        {
            candidate = At(_next++);
            return true;
        }
        candidate = default;
        return false;
    }

    /// <summary>
    /// A lease on the first candidate's deployment taken by the request's shared admission, waiting for the rate-limit
    /// step to use it instead of taking another; null when there is none (or it was used).
    /// </summary>
    internal RateLimiting.RateLimitLease? Admitted { get; set; }

    /// <summary>The candidates not tried yet, in order.</summary>
    public IEnumerable<Candidate> Upcoming => From(_next);

    // The start is taken when Upcoming is read, not when it is enumerated: candidates taken meanwhile stay in it.
    private IEnumerable<Candidate> From(int start)
    {
        for (var i = start; i < _count; i++)
        {
            yield return At(i);
        }
    }

    /// <summary>The deployment of the next candidate not tried yet (null when none is left), without a query.</summary>
    internal Deployment? FirstUpcomingDeployment => _next < _count ? At(_next).Deployment : null;

    /// <summary>The deployments of the candidates not tried yet, in order, as a new list (built without a query).</summary>
    internal List<Deployment> UpcomingDeployments()
    {
        var deployments = new List<Deployment>(Math.Max(0, _count - _next));
        for (var i = _next; i < _count; i++)
        {
            deployments.Add(At(i).Deployment);
        }
        return deployments;
    }

    /// <summary>
    /// Takes <paramref name="later"/>, one of the <see cref="Upcoming"/> candidates, in place of the one just
    /// taken, which becomes the next (e.g. when the latter has no rate-limit capacity left and the former has).
    /// </summary>
    public void TakeInstead(Candidate later)
    {
        var candidates = All();
        var index = candidates.IndexOf(later, _next);
        if (index < 0 || _next == 0)
        {
            throw new InvalidOperationException("Only an upcoming candidate can be taken instead of the current one.");
        }
        candidates.RemoveAt(index);
        candidates.Insert(_next - 1, later);
        Replace(candidates);
    }

    /// <summary>True when every candidate has been tried.</summary>
    public bool IsExhausted => _next >= _count;

    /// <summary>Starts over from the first candidate: one that failed a while ago may answer now.</summary>
    public void Restart() => _next = 0;

    /// <summary>
    /// After a context-window failure: only the larger-context model can answer, so the plan becomes its
    /// deployments. False when none is configured (or it was already tried).
    /// </summary>
    public bool SwitchToLargerContext(ModelRoute from)
    {
        if (from.ContextWindowFallback is not { } name || !_catalog.TryResolve(name, out var larger))
        {
            return false;
        }
        TrackPlanned();
        var candidates = All();
        candidates.RemoveRange(_next, _count - _next);
        Replace(candidates);
        var before = _count;
        Add(larger, isFallback: true);
        return _count > before;
    }

    /// <summary>A virtual key names the models it may use: asking for another is refused before anything else happens.</summary>
    private void RefuseUnlessAllowed(ModelRoute route)
    {
        if (!string.Equals(route.Kind, _kind, StringComparison.Ordinal))
        {
            throw BatonException.InvalidRequest(route.Kind == Configuration.ModelKinds.Embeddings
                ? $"The model '{route.Name}' is an embeddings model: ask it through /v1/embeddings, not for a chat answer."
                : $"The model '{route.Name}' is a chat model; embeddings need a model of kind 'embeddings' (models.NAME.kind in the configuration).",
                "model", "wrong_model_kind");
        }
        if (_request.Options.Key is { } key && !key.Allows(route.Name))
        {
            throw new BatonException(403, ErrorTypes.InvalidRequest,
                $"The key '{key.Name ?? key.Id}' may not use the model '{route.Name}' (it may use: {string.Join(", ", key.Models!)}).", "model", "model_not_allowed");
        }
    }

    private void Add(ModelRoute route, bool isFallback)
    {
        // A fallback (or larger-context model) the caller's key may not use is left out, never used behind its back.
        if (isFallback && _request.Options.Key is { } key && !key.Allows(route.Name))
        {
            return;
        }
        // A fallback that serves something else (an embeddings model behind a chat model) could not answer.
        if (isFallback && !string.Equals(route.Kind, _kind, StringComparison.Ordinal))
        {
            return;
        }
        if (_count > 0)
        {
            TrackPlanned();
        }
        // By index: the list's enumerator, through its interface, would be one more allocation per request.
        var order = DeploymentOrder.For(route, _request, _random, _prices);
        for (var i = 0; i < order.Count; i++)
        {
            var deployment = order[i];
            if (IsNew(deployment.Id))
            {
                Append(new Candidate(route, deployment, isFallback), order.Count - i);
            }
        }
    }

    private Candidate At(int index) => index == 0 ? _first : _rest![index - 1];

    /// <param name="candidate">The next candidate.</param>
    /// <param name="planned">How many are being added, this one included: the list is sized to them, not to its default of four.</param>
    private void Append(Candidate candidate, int planned)
    {
        if (_count == 0)
        {
            _first = candidate;
        }
        else
        {
            (_rest ??= new List<Candidate>(planned)).Add(candidate);
        }
        _count++;
    }

    /// <summary>The candidates as one list, for the rare changes of order (a copy: the plan is unchanged until <see cref="Replace"/>).</summary>
    private List<Candidate> All()
    {
        var all = new List<Candidate>(_count);
        for (var i = 0; i < _count; i++)
        {
            all.Add(At(i));
        }
        return all;
    }

    private void Replace(List<Candidate> candidates)
    {
        _count = 0;
        _first = default;
        _rest?.Clear();
        foreach (var candidate in candidates)
        {
            Append(candidate, candidates.Count);
        }
    }

    /// <summary>True the first time a deployment is planned.</summary>
    private bool IsNew(string deploymentId)
    {
        if (_planned is not null)
        {
            return _planned.Add(deploymentId);
        }
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(At(i).Deployment.Id, deploymentId, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>From now on the set remembers every planned deployment, including those a switch removes from the list.</summary>
    private void TrackPlanned()
    {
        if (_planned is null)
        {
            _planned = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < _count; i++)
            {
                _planned.Add(At(i).Deployment.Id);
            }
        }
    }
}
