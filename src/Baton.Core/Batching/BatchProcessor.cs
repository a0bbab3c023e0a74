using System.Text.Json;
using Baton.Errors;
using Baton.Requests;
using Baton.Routing;

namespace Baton.Batching;

/// <summary>
/// Runs a batch (seed 001's <c>POST /batch</c>, seed 004's <c>process_batch</c>): every item through the full
/// engine (cache, rate limits, retries, breakers) by <see cref="BatchExecutor"/>, at most
/// <see cref="MaxConcurrency"/> at a time, answers in request order. One failed item never fails the batch; an invalid
/// batch is refused before anything is sent.
/// </summary>
public sealed class BatchProcessor(BatchExecutor executor)
{
    /// <summary>Seed 001's <c>MAX_CONCURRENT_REQUESTS</c>.</summary>
    public const int DefaultMaxConcurrency = BatchExecutor.DefaultMaxConcurrency;

    private const double DefaultTemperature = 0.7;
    private const int DefaultMaxTokens = 1000;

    /// <summary>The most items of one batch answered at the same time (<c>batch.maxConcurrency</c>).</summary>
    public int MaxConcurrency => executor.MaxConcurrency;

    /// <summary>The providers and models a batch item may name, as its validation checks them.</summary>
    public ModelCatalog Catalog => executor.Engine.Catalog;

    /// <param name="batch">The requests.</param>
    /// <param name="caller">Options every item carries, e.g. the identity of the caller (its key's models, limits and budget apply).</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    /// <exception cref="BatonValidationException">The batch breaks seed 001's contract; nothing was sent.</exception>
    /// <exception cref="OperationCanceledException">The batch was stopped before every item was answered.</exception>
    public async Task<BatchResponse> ProcessBatchAsync(BatchRequest batch, BatonRequestOptions? caller = null, CancellationToken cancellationToken = default)
    {
        BatchValidator.Validate(batch, Catalog);
        var entries = new BatchEntry[batch.Requests.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = Entry(batch.Requests[i], i, caller);
        }
        var run = await executor.RunAsync(entries, new Responses(batch), cancellationToken).ConfigureAwait(false);
        if (run.Stopped)
        {
            // Half an answer is no answer: the caller has gone, or gave up.
            throw new OperationCanceledException(cancellationToken);
        }
        var results = run.Results.Select(r => r!).ToList();
        return new BatchResponse(results, results.Count, run.Progress.Done - run.Progress.Failed, run.Progress.Failed,
            Math.Round(run.ElapsedMs, 2), Math.Round(results.Average(r => r.LatencyMs), 2));
    }

    /// <summary>The item as a request pinned to its provider's model, carrying the caller's options; a body the parser refuses fails the item alone.</summary>
    private BatchEntry Entry(BatchItem item, int index, BatonRequestOptions? caller)
    {
        var id = item.RequestId ?? index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var route = Catalog.ResolvePinned(item.Provider!, item.Model!)!;
        try
        {
            var request = ChatRequestParser.Parse(Body(item, route.Name));
            request.Pinned = route;
            if (caller is not null)
            {
                request.Options = request.Options.Over(caller);
            }
            return new BatchEntry(id, request);
        }
        catch (BatonException error)
        {
            return new BatchEntry(id, null, error);
        }
    }

    /// <summary>Seed 001's response items, kept in request order.</summary>
    private sealed class Responses(BatchRequest batch) : BatchSink<BatchItemResult>
    {
        public override bool KeepsResults => true;

        public override BatchItemResult Shape(BatchAnswer answer)
        {
            var item = batch.Requests[answer.Index];
            var latency = Math.Round(answer.LatencyMs, 2);
            if (answer.Completion is { } completion)
            {
                var usage = completion.Usage;
                return new BatchItemResult(item.RequestId, item.Provider!, completion.Route.UpstreamModel, Content(completion.Body.Span),
                    usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens, latency, answer.FinishedAt, null);
            }
            return new BatchItemResult(item.RequestId, item.Provider!, item.Model!, "", 0, 0, 0, latency, answer.FinishedAt, answer.Error!.Message);
        }
    }

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
