namespace Baton.Monitoring;

/// <summary>
/// What the <see cref="RequestRecorder"/> keeps of one finished request: who asked, which model and deployment
/// answered, how it ended, how long it took, what it used and cost. Never any prompt or answer text.
/// </summary>
public sealed record CompletedRequest
{
    /// <summary>When the request finished (the last chunk of a stream, or the error).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The caller's key id (a virtual key's id, <c>master</c>, or a fingerprint), never the key; null without keys.</summary>
    public string? KeyId { get; init; }

    /// <summary>The virtual key's name, if it has one.</summary>
    public string? KeyName { get; init; }

    /// <summary>The model the client asked for (<c>auto</c> when routed by task).</summary>
    public required string RequestedModel { get; init; }

    /// <summary>The configured model that answered; the requested one when none did.</summary>
    public required string Model { get; init; }

    /// <summary>The deployment that answered, or the last one tried; null when none was reached.</summary>
    public string? Deployment { get; init; }

    /// <summary>200 for an answer, the error's status otherwise; 499 when the client stopped reading a stream.</summary>
    public required int Status { get; init; }

    /// <summary>The error's code (<c>rate_limit_exceeded</c>, <c>circuit_open</c>, ...), null for an answer.</summary>
    public string? ErrorCode { get; init; }

    public bool Stream { get; init; }

    /// <summary><c>hit</c>, <c>miss</c> or <c>bypass</c>.</summary>
    public string Cache { get; init; } = "bypass";

    /// <summary>True when a fallback model or another deployment answered.</summary>
    public bool Fallback { get; init; }

    /// <summary>Upstream attempts made.</summary>
    public int Attempts { get; init; }

    /// <summary>From the engine receiving the request to its end (a stream's last chunk).</summary>
    public required double LatencyMs { get; init; }

    /// <summary>For a stream, until its first chunk was ready; null otherwise.</summary>
    public double? TimeToFirstTokenMs { get; init; }

    public int InputTokens { get; init; }

    public int OutputTokens { get; init; }

    /// <summary>The answer's cost in US dollars; null when the gateway does no accounting or none is known.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>True for an answer; false for an error (a client that stopped reading, 499, is neither: see <see cref="IsCancelled"/>).</summary>
    public bool IsSuccess => Status < 400;

    /// <summary>True when the client went away before the end: not counted as an error of the gateway.</summary>
    public bool IsCancelled => Status == ClientClosedRequest;

    /// <summary>True when the request failed for a reason other than the client leaving.</summary>
    public bool IsError => !IsSuccess && !IsCancelled;

    /// <summary>The status of a request whose client went away (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;
}
