namespace Baton.Configuration;

/// <summary>
/// The cost ledger: one row per upstream attempt that billed tokens and per cache hit, written to a SQLite
/// file off the request path. See docs/costs.md.
/// </summary>
public sealed class LedgerOptions
{
    /// <summary>Record usage and cost at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The SQLite file, relative to the working directory. Default <c>baton.db</c>.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>The most rows written in one transaction. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// The most rows waiting in memory to be written (<c>ledger.maxBacklog</c>); past it, rows are spilled to
    /// <c>{path}.overflow</c> and written once the ledger catches up. Default 100,000 (about 40 MB).
    /// </summary>
    public int MaxBacklog { get; set; } = Accounting.Ledger.LedgerWriter.DefaultMaxBacklog;

    /// <summary>
    /// How many days rows are kept: older rows are deleted at start-up and every hour after (<c>ledger.retentionDays</c>).
    /// Default: kept forever.
    /// </summary>
    public int? RetentionDays { get; set; }

    /// <summary>The ledger's file when <see cref="Path"/> is not set, relative to the working directory.</summary>
    public const string DefaultPath = "baton.db";
}

/// <summary>Spending limits, checked before any upstream call. See docs/costs.md.</summary>
public sealed class BudgetOptions
{
    /// <summary>The limits by name; the name appears in errors and warnings.</summary>
    public Dictionary<string, BudgetLimitOptions> Limits { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The SQLite file holding what each budget has spent and reserved; the ledger's file when not set.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// How long an unsettled reservation counts against a budget. A process that dies mid-request leaves its
    /// reservations behind; they stop counting after this. Default 600 s.
    /// </summary>
    public double ReservationTimeoutSeconds { get; set; } = 600;

    /// <summary>
    /// What admission does when a deployment a budgeted request may reach has no price (neither configured nor in
    /// the catalog): <c>refuse</c> the request (the default: a cost Baton cannot know is a budget it cannot
    /// keep), or <c>estimate</c> it, and bill it, at <see cref="DefaultPrice"/>. See <see cref="UnpricedHandling"/>.
    /// </summary>
    public string? Unpriced { get; set; }

    /// <summary>The price unpriced deployments are estimated and billed at when <see cref="Unpriced"/> is <c>estimate</c>.</summary>
    public PriceOptions? DefaultPrice { get; set; }
}

/// <summary>The values of <c>budgets.unpriced</c>.</summary>
public static class UnpricedHandling
{
    /// <summary>Refuse a budgeted request that may reach an unpriced deployment.</summary>
    public const string Refuse = "refuse";

    /// <summary>Estimate and bill unpriced deployments at <c>budgets.defaultPrice</c>.</summary>
    public const string Estimate = "estimate";

    /// <summary>Every value of <c>budgets.unpriced</c>, for validation and error messages.</summary>
    public static readonly string[] All = [Refuse, Estimate];
}

/// <summary>One spending limit.</summary>
public sealed class BudgetLimitOptions
{
    /// <summary>What is limited: <c>global</c>, <c>session</c>, <c>key</c> (API key), <c>user</c> or <c>tag</c>; see <see cref="BudgetScopes"/>.</summary>
    public string? Scope { get; set; }

    /// <summary>One value of the scope (a session id, a user, a tag, a key fingerprint); each value separately when left out.</summary>
    public string? Match { get; set; }

    /// <summary><c>total</c> (never resets, the default), <c>daily</c> or <c>monthly</c> (UTC); see <see cref="BudgetPeriods"/>.</summary>
    public string? Period { get; set; }

    /// <summary>Past this, answers carry an <c>x-baton-budget-warning</c> header.</summary>
    public decimal? SoftUsd { get; set; }

    /// <summary>A request that could take spending past this is refused before any upstream call.</summary>
    public decimal? HardUsd { get; set; }
}

/// <summary>The scopes a budget can limit.</summary>
public static class BudgetScopes
{
    /// <summary>One counter for all traffic.</summary>
    public const string Global = "global";
    /// <summary>A counter per session (the <c>X-Baton-Session</c> header or <c>metadata.session_id</c>).</summary>
    public const string Session = "session";
    /// <summary>A counter per caller API key: the virtual key's id, or the fingerprint of a key Baton does not manage.</summary>
    public const string Key = "key";
    /// <summary>A counter per end user (the body's <c>user</c>, else <c>metadata.user_id</c>).</summary>
    public const string User = "user";
    /// <summary>A counter per tag (<c>metadata.tags</c> or the <c>X-Baton-Tags</c> header); only whole tags match.</summary>
    public const string Tag = "tag";

    /// <summary>Every scope, for validation and error messages.</summary>
    public static readonly string[] All = [Global, Session, Key, User, Tag];
}

/// <summary>The periods a budget can cover.</summary>
public static class BudgetPeriods
{
    /// <summary>One window for all time: the counter never resets. The default.</summary>
    public const string Total = "total";
    /// <summary>A window per UTC calendar day, starting again at midnight UTC.</summary>
    public const string Daily = "daily";
    /// <summary>A window per UTC calendar month, starting again on the first at midnight UTC.</summary>
    public const string Monthly = "monthly";

    /// <summary>Every period, for validation and error messages.</summary>
    public static readonly string[] All = [Total, Daily, Monthly];
}
