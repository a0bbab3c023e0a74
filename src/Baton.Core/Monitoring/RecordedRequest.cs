namespace Baton.Monitoring;

/// <summary>
/// What the <see cref="RequestRecorder"/> keeps of one finished request, as a value: the engine records every request
/// it finishes, and the ring of the last requests holds these in place, so recording allocates nothing. The same
/// figures as <see cref="CompletedRequest"/>, which is built from one only when the last requests are read.
/// </summary>
internal struct RecordedRequest
{
    public DateTimeOffset Time;
    public string? KeyId;
    public string? KeyName;
    public string RequestedModel;
    public string Model;
    public string? Deployment;
    public int Status;
    public string? ErrorCode;
    public bool Stream;
    public string Cache;
    public bool Fallback;
    public int Attempts;
    public double LatencyMs;
    public double? TimeToFirstTokenMs;
    public int InputTokens;
    public int OutputTokens;
    public decimal? CostUsd;

    /// <summary>The record this was taken from, when one was given (<see cref="RequestRecorder.Record(CompletedRequest)"/>): read back as it was.</summary>
    public CompletedRequest? Given;

    /// <inheritdoc cref="CompletedRequest.IsSuccess"/>
    public readonly bool IsSuccess => Status < 400;

    /// <inheritdoc cref="CompletedRequest.IsCancelled"/>
    public readonly bool IsCancelled => Status == CompletedRequest.ClientClosedRequest;

    /// <inheritdoc cref="CompletedRequest.IsError"/>
    public readonly bool IsError => !IsSuccess && !IsCancelled;

    public static RecordedRequest From(CompletedRequest request) => new()
    {
        Time = request.Time,
        KeyId = request.KeyId,
        KeyName = request.KeyName,
        RequestedModel = request.RequestedModel,
        Model = request.Model,
        Deployment = request.Deployment,
        Status = request.Status,
        ErrorCode = request.ErrorCode,
        Stream = request.Stream,
        Cache = request.Cache,
        Fallback = request.Fallback,
        Attempts = request.Attempts,
        LatencyMs = request.LatencyMs,
        TimeToFirstTokenMs = request.TimeToFirstTokenMs,
        InputTokens = request.InputTokens,
        OutputTokens = request.OutputTokens,
        CostUsd = request.CostUsd,
        Given = request,
    };

    public readonly CompletedRequest ToCompleted() => Given ?? new()
    {
        Time = Time,
        KeyId = KeyId,
        KeyName = KeyName,
        RequestedModel = RequestedModel,
        Model = Model,
        Deployment = Deployment,
        Status = Status,
        ErrorCode = ErrorCode,
        Stream = Stream,
        Cache = Cache,
        Fallback = Fallback,
        Attempts = Attempts,
        LatencyMs = LatencyMs,
        TimeToFirstTokenMs = TimeToFirstTokenMs,
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        CostUsd = CostUsd,
    };
}
