using Baton.Providers;
using Baton.Requests;

namespace Baton.Accounting;

/// <summary>
/// Counts the usage of answers whose provider reported none (a stream without a usage chunk, a cut stream, a
/// client that left), off the request's path: on the thread pool, at most half the cores at once, so that
/// counting a long answer never holds a request, an upstream connection or the other requests' threads. Once
/// <see cref="Stop"/> is called (the host is stopping), counts waiting or running give way to a rough estimate
/// (four characters a token), so the answer is still billed and shutdown is not held up.
/// </summary>
internal sealed class UsageCounter : IDisposable
{
    private static readonly int Slots = Math.Max(1, Environment.ProcessorCount / 2);

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots = new(Slots, Slots);

    /// <summary>The usage of <paramref name="request"/> answered with <paramref name="completionText"/>, counted in the background; never fails.</summary>
    public Task<TokenUsage> CountAsync(ChatRequest request, string completionText, string upstreamModel) =>
        Task.Run(() => CountInSlotAsync(request, completionText, upstreamModel));

    private async Task<TokenUsage> CountInSlotAsync(ChatRequest request, string completionText, string upstreamModel)
    {
        var stopping = _stopping.Token;
        try
        {
            await _slots.WaitAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Rough(request, completionText);
        }
        try
        {
            return Count(request, completionText, upstreamModel, stopping);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The prompt and the answer counted with the model's encoding; a rough estimate if the count is cancelled.</summary>
    public static TokenUsage Count(ChatRequest request, string completionText, string upstreamModel, CancellationToken cancellationToken)
    {
        try
        {
            return TokenUsage.Of(PromptTokenCounter.CountPrompt(request, cancellationToken), PromptTokenCounter.Count(completionText, upstreamModel, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Rough(request, completionText);
        }
    }

    /// <summary>Four characters a token (the prompt's count if it was already made), for a count that could not finish.</summary>
    public static TokenUsage Rough(ChatRequest request, string completionText) =>
        TokenUsage.Of(request.PromptTokens ?? Math.Max(1, (request.PromptCharacters + 3) / 4), (completionText.Length + 3) / 4);

    /// <summary>Makes every count waiting or running, and every later one, a rough estimate.</summary>
    public void Stop() => _stopping.Cancel();

    /// <summary>
    /// Stops counting. The token source and the semaphore hold no timer or wait handle, and counts still
    /// finishing use them, so they are left to the collector rather than disposed under those counts.
    /// </summary>
    public void Dispose() => Stop();
}
