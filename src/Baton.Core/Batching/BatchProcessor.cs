using System.Text.Json;
using Baton.Engine;
using Baton.Errors;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Batching;

/// <summary>
/// Runs a batch (seed 001's <c>POST /batch</c>, seed 004's <c>process_batch</c>): every item through the full
/// engine (cache, rate limits, retries, breakers), at most <see cref="MaxConcurrency"/> at a time, answers in
/// request order. One failed item never fails the batch; an invalid batch is refused before anything is sent.
/// </summary>
public sealed class BatchProcessor(BatonEngine engine, TimeProvider time, int maxConcurrency = BatchProcessor.DefaultMaxConcurrency)
{
    /// <summary>Seed 001's <c>MAX_CONCURRENT_REQUESTS</c>.</summary>
    public const int DefaultMaxConcurrency = 10;

    private const double DefaultTemperature = 0.7;
    private const int DefaultMaxTokens = 1000;

    public int MaxConcurrency { get; } = Math.Max(1, maxConcurrency);

    public ModelCatalog Catalog => engine.Catalog;

    /// <param name="batch">The requests.</param>
    /// <param name="caller">Options every item carries, e.g. the identity of the caller (its key's models, limits and budget apply).</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    /// <exception cref="BatonValidationException">The batch breaks seed 001's contract; nothing was sent.</exception>
    public async Task<BatchResponse> ProcessBatchAsync(BatchRequest batch, BatonRequestOptions? caller = null, CancellationToken cancellationToken = default)
    {
        BatchValidator.Validate(batch, engine.Catalog);
        var started = time.GetTimestamp();
        var results = new BatchItemResult[batch.Requests.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, batch.Requests.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrency, CancellationToken = cancellationToken },
            async (i, token) => results[i] = await RunAsync(batch.Requests[i], caller, token).ConfigureAwait(false)).ConfigureAwait(false);

        var total = time.GetElapsedTime(started).TotalMilliseconds;
        var successful = results.Count(r => r.Error is null);
        return new BatchResponse(results, results.Length, successful, results.Length - successful,
            Math.Round(total, 2), Math.Round(results.Average(r => r.LatencyMs), 2));
    }

    private async Task<BatchItemResult> RunAsync(BatchItem item, BatonRequestOptions? caller, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var route = engine.Catalog.ResolvePinned(item.Provider!, item.Model!)!;
        try
        {
            var request = ChatRequestParser.Parse(Body(item, route.Name));
            request.Pinned = route;
            if (caller is not null)
            {
                request.Options = request.Options.Over(caller);
            }
            using var result = await engine.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
            var usage = result.Usage;
            return new BatchItemResult(item.RequestId, item.Provider!, result.Route.UpstreamModel, Content(result.Body.Span),
                usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens, Elapsed(started), time.GetUtcNow(), null);
        }
        catch (BatonException error)
        {
            return new BatchItemResult(item.RequestId, item.Provider!, item.Model!, "", 0, 0, 0, Elapsed(started), time.GetUtcNow(), error.Message);
        }
    }

    private double Elapsed(long started) => Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 2);

    /// <summary>The item as an OpenAI Chat Completions body for the pinned route, with seed 001's defaults.</summary>
    private static byte[] Body(BatchItem item, string model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WriteStartArray("messages");
            foreach (var message in item.Messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role);
                writer.WriteString("content", message.Content);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteNumber("temperature", item.Temperature ?? DefaultTemperature);
            writer.WriteNumber("max_tokens", item.MaxTokens ?? DefaultMaxTokens);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Content(ReadOnlySpan<byte> completion)
    {
        var reader = new Utf8JsonReader(completion);
        using var document = JsonDocument.ParseValue(ref reader);
        var message = document.RootElement.GetProperty("choices")[0].GetProperty("message");
        return message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()! : "";
    }
}
